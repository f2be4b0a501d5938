import Hummingbird

extension Router where Context == BasicRequestContext {
    /// `GET /metrics`: the process's metrics in Prometheus's text exposition format.
    public func addMetricsRoute() {
        get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: PrometheusExport.exposition())))
        }
    }
}
