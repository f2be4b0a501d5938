import Testing

@testable import Coordinator

@Suite("Round-trip histogram")
struct LatencyHistogramTests {
    @Test("percentiles within 1% of the exact ones, for values from 0 to hours")
    func percentiles() {
        var generator = SystemRandomNumberGenerator()
        for scale in [100.0, 10_000.0, 1e9] {
            var histogram = LatencyHistogram()
            let values = (0..<20_000).map { _ in Int64(Double.random(in: 0...1, using: &generator) * Double.random(in: 0...1, using: &generator) * scale) }
            values.forEach { histogram.record(microseconds: $0) }
            let sorted = values.sorted()
            for fraction in [0.5, 0.9, 0.99] {
                let exact = Double(sorted[Int(Double(sorted.count - 1) * fraction)])
                let estimate = histogram.percentile(fraction)!
                #expect(estimate <= exact && exact - estimate <= max(1, exact * 0.01), "scale \(scale) p\(fraction): \(estimate) vs \(exact)")
            }
        }
        #expect(LatencyHistogram().percentile(0.5) == nil)
    }

    @Test("small values are exact; each bucket's edge maps back to itself")
    func buckets() {
        for value in Int64(0)..<5000 {
            let bucket = LatencyHistogram.bucket(of: value)
            #expect(LatencyHistogram.lowerEdge(of: bucket) <= value)
            #expect(LatencyHistogram.bucket(of: LatencyHistogram.lowerEdge(of: bucket)) == bucket)
        }
        #expect(LatencyHistogram.lowerEdge(of: LatencyHistogram.bucket(of: 127)) == 127)
    }
}
