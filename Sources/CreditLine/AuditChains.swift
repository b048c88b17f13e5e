/// Which audit chain a new account's entries go to (docs/audit-chain.md, "Chains"): one of the
/// account chains 1 to `accountChains`, by a stable hash of its id, so that accounts spread evenly
/// and no two instances need agree on anything but the count. The chain is stored on the account
/// and never recomputed: raising the count moves no account.
public enum AuditChains {
    public static func chain(forNewAccount id: String, accountChains: Int) -> Int {
        guard accountChains > 1 else { return 1 }
        // FNV-1a, 64 bits: the same on every machine and every run (Swift's Hasher is seeded
        // per process).
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in id.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return 1 + Int(hash % UInt64(accountChains))
    }
}
