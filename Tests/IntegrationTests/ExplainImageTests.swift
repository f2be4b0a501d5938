import Foundation
import OrreryTestSupport
import Testing

extension ClusterTests {
    @Suite("orrery explain on images")
    struct ExplainImageTests {
        @Test("orrery train saves a model; orrery explain --spec --weights attributes a test image's pixels, as JSON and as an SVG map")
        func explainImage() throws {
            let directory = NSTemporaryDirectory() + "orrery-explain-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let spec = "\(directory)/digits.yaml"
            try "name: d\nworkload: train\ntrain:\n  dataset: digits\n  hidden: [24]\n  epochs: 2\n  seed: 3\n  save: \(directory)/d.safetensors\n"
                .write(toFile: spec, atomically: true, encoding: .utf8)
            let train = try CommandRun(["train", spec], in: directory)
            #expect(train.status == 0, "\(train.stderr)")
            let explain = try CommandRun(
                ["explain", "--spec", spec, "--weights", "\(directory)/d.safetensors", "--image", "3", "--json", "--svg", "\(directory)/map.svg"], in: directory)
            #expect(explain.status == 0, "\(explain.stderr)")
            let result = try #require(try JSONSerialization.jsonObject(with: Data(explain.stdout.utf8)) as? [String: Any])
            #expect((result["attributions"] as? [Double])?.count == 64)
            #expect((result["completenessGap"] as? Double ?? 1) <= 0.01)
            let svg = try String(contentsOfFile: "\(directory)/map.svg", encoding: .utf8)
            #expect(svg.components(separatedBy: "class=\"attribution\"").count - 1 == 64)

            let text = try CommandRun(["explain", "--spec", spec, "--weights", "\(directory)/d.safetensors", "--image", "3"], in: directory)
            #expect(text.status == 0 && text.stdout.contains("strongest pixels"), "\(text.stderr)")
            let missing = try CommandRun(["explain", "--spec", spec], in: directory)
            #expect(missing.status == 2 && missing.stderr.contains("--weights"), "\(missing.stderr)")
            let outside = try CommandRun(["explain", "--spec", spec, "--weights", "\(directory)/d.safetensors", "--image", "100000"], in: directory)
            #expect(outside.status == 2 && outside.stderr.contains("100000"), "\(outside.stderr)")
        }
    }
}
