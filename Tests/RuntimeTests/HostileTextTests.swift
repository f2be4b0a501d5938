import Glibc
import Testing

@testable import Runtime

@Suite("Text and durations from the network")
struct HostileTextTests {
    @Test("durations: units, bounds, and values that used to trap")
    func durations() {
        #expect(DurationText.milliseconds("250ms") == 250)
        #expect(DurationText.milliseconds("1.5s") == 1500)
        #expect(DurationText.milliseconds("5m") == 300_000)
        #expect(DurationText.milliseconds("720h") == 720 * 3_600_000)
        #expect(DurationText.milliseconds("2") == 2000)
        for bad in ["99999999999999999h", "2562047788016h", "721h", "1e300", "inf", "nan", "-1s", "", "5 parsecs", "0x10s"] {
            #expect(DurationText.milliseconds(bad) == nil, "\(bad)")
        }
    }

    @Test("printable text: control characters, NUL, newlines and bidi overrides are escaped, long text cut")
    func escaping() {
        #expect(PrintableText.escaped("ok") == "ok")
        #expect(PrintableText.escaped("a\nb\u{0}c\u{1b}[31m") == "a\\nb\\u{0}c\\u{1b}[31m")
        #expect(PrintableText.escaped("\u{202e}evil") == "\\u{202e}evil")
        #expect(PrintableText.escaped(String(repeating: "x", count: 500), limit: 10) == "xxxxxxxxxx… (490 more)")
        #expect(PrintableText.escaped(bytes: [0xFF, 0x00, 0x41]) == "0xff0041")
        #expect(PrintableText.escaped(bytes: Array("worker-1".utf8)) == "worker-1")
    }

    @Test("log rate limit: a burst per key and window, then one line with the count left out")
    func rateLimit() {
        var limiter = LogRateLimiter(burst: 2, windowMilliseconds: 1000, maximumKeys: 3)
        #expect(limiter.decide("a", now: 0) == .log)
        #expect(limiter.decide("a", now: 1) == .log)
        #expect(limiter.decide("a", now: 2) == .suppress)
        #expect(limiter.decide("a", now: 3) == .suppress)
        #expect(limiter.decide("b", now: 3) == .log)
        #expect(limiter.decide("a", now: 1000) == .logWithSuppressed(2))
        #expect(limiter.totalSuppressed == 2)
        // A flood of new keys shares one overflow key instead of growing the table.
        for index in 0..<1000 { _ = limiter.decide("peer-\(index)", now: 1001) }
        #expect(limiter.decide("peer-new", now: 1001) == .suppress)
    }

    @Test("process memory is read from /proc, and nil for a process that is not there")
    func memory() throws {
        let own = try #require(ProcessMemory.of(pid: getpid()))
        #expect(own.residentBytes > 1 << 20 && own.peakResidentBytes >= own.residentBytes)
        #expect(ProcessMemory.of(pid: Int32.max) == nil)
    }
}
