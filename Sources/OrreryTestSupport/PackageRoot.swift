import Foundation

/// The repository root (where Package.swift is), found from this file's own path, so unit
/// tests and process tests read job specs and scripts from the same place.
public enum PackageRoot {
    public static let url: URL = {
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path),
            directory.path != "/"
        {
            directory = directory.deletingLastPathComponent()
        }
        return directory
    }()
}
