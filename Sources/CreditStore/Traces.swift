import Synchronization
import Tracing

/// Traces (README "Operations", "Traces"): off unless `otel_endpoint` is set, and then the one
/// switch every span of the service looks at first, so that with tracing off not a span, a
/// context or a header is made on any path (the instruction counts of BENCHMARKS.md hold it).
/// Spans carry route patterns, write kinds, counts and ids the service made (an endpoint's);
/// never a customer reference, a note, a key or an account id.
public enum Traces {
    private static let on = Atomic<Bool>(false)

    public static var enabled: Bool { on.load(ordering: .relaxed) }

    /// Called once, by `serve`, after `InstrumentationSystem.bootstrap`.
    public static func switchOn() { on.store(true, ordering: .releasing) }

    /// The current span's context as a W3C `traceparent` value, for a row to carry to work done
    /// later (a webhook push); nil when tracing is off or there is no span.
    public static func traceparent() -> String? {
        enabled ? traceparent(ServiceContext.current) : nil
    }

    public static func traceparent(_ context: ServiceContext?) -> String? {
        guard enabled, let context else { return nil }
        var carrier: [String: String] = [:]
        InstrumentationSystem.instrument.inject(context, into: &carrier, using: DictionaryInjector())
        return carrier["traceparent"]
    }

    /// A context that continues the trace `traceparent` names.
    public static func context(traceparent: String) -> ServiceContext {
        var context = ServiceContext.topLevel
        InstrumentationSystem.instrument.extract(["traceparent": traceparent], into: &context, using: DictionaryExtractor())
        return context
    }

    public struct DictionaryInjector: Injector {
        public init() {}
        public func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) {
            carrier[key] = value
        }
    }

    public struct DictionaryExtractor: Extractor {
        public init() {}
        public func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
    }
}
