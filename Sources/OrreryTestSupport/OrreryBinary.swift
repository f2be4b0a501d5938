import Foundation
import Runtime

/// Finds the `orrery` executable that the tests start as real processes: the one beside
/// the test bundle (`.build/<config>/orrery`), or `$ORRERY_BIN`.
public enum OrreryBinary {
    public static var path: String {
        if let explicit = ProcessInfo.processInfo.environment["ORRERY_BIN"] { return explicit }
        let testBinary = URL(fileURLWithPath: ChildProcess.currentExecutable)
        var directory = testBinary.deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("orrery").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return PackageRoot.url.appendingPathComponent(".build/debug/orrery").path
    }
}
