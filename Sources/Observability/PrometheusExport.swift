import Metrics
import Prometheus

/// The process's metrics backend: swift-prometheus behind swift-metrics, so that every
/// `Counter`, `Gauge` and `Timer` the daemons make (tasks by workload, all-reduce time and
/// bytes by path, rejections by reason…) appears in `/metrics` in Prometheus's text format.
///
/// swift-metrics takes one backend per process, before the first metric is made: a daemon
/// calls `bootstrap()` first thing when it serves HTTP; metrics made before that (or in a
/// process that never calls it) go to swift-metrics' no-op backend.
public enum PrometheusExport {
    private static let state = BootstrapOnce()

    /// Installs the Prometheus backend (once; later calls return the same registry).
    @discardableResult
    public static func bootstrap() -> PrometheusCollectorRegistry {
        state.registry()
    }

    /// The exposition text (format 0.0.4) of everything registered so far.
    public static func exposition() -> String {
        bootstrap().emitToString()
    }
}

/// Makes and installs the registry exactly once, whichever thread asks first.
private final class BootstrapOnce: Sendable {
    private let made: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Lease round trips and collective calls run from tens of microseconds to minutes.
        factory.defaultDurationHistogramBuckets = [
            .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2.5),
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
            .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
        ]
        MetricsSystem.bootstrap(factory)
        return registry
    }()

    func registry() -> PrometheusCollectorRegistry { made }
}
