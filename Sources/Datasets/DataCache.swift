import Foundation

/// Where fetched data sets and models live: `$ORRERY_DATA`, or `~/.cache/orrery`. Never
/// inside the repository; filled and verified by `scripts/fetch-data`.
public enum DataCache {
    public static var directory: String {
        if let explicit = ProcessInfo.processInfo.environment["ORRERY_DATA"], !explicit.isEmpty { return explicit }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/orrery").path
    }

    public static func path(_ relative: String) -> String { "\(directory)/\(relative)" }
}
