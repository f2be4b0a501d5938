import ArgumentParser
import Foundation
import Messaging

/// `orrery keygen NAME`: a CURVE key pair for one coordinator, worker or client.
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Write a CURVE key pair: NAME.key (secret, mode 0600) and NAME.pub (public).",
        discussion: """
            Give each daemon and client its own pair. A coordinator admits the keys listed in
            its --curve-allow file and a worker's data plane those in its own; an allow-list
            is the .pub files of the peers it admits, put together:
              orrery keygen coordinator; orrery keygen worker-1; orrery keygen alice
              cat worker-*.pub alice.pub > coordinator.allow; cat worker-*.pub > workers.allow
            Daemons re-read their allow-list on SIGHUP.
            """)

    @Argument(help: "Name of the pair; the files are NAME.key and NAME.pub.")
    var name: String

    @Option(name: .long, help: "Directory to write into.")
    var directory = "."

    @Flag(name: .long, help: "Replace existing files.")
    var force = false

    func validate() throws {
        if name.isEmpty || name.contains("/") || name.hasPrefix(".") {
            throw ValidationError("NAME must be a file name: not empty, no '/', not starting with '.'")
        }
    }

    func run() throws {
        do {
            let pair = try CurveKeyPair.generate()
            try CurveKeyFile.write(pair, name: name, directory: directory, overwrite: force)
            let base = (directory as NSString).appendingPathComponent(name)
            print("wrote \(base).key (secret, 0600) and \(base).pub")
            print("public key \(pair.publicKey.z85) (\(pair.publicKey.fingerprint))")
        } catch {
            throw CommandFailure.exit("\(error)", code: CommandFailure.invalidInput)
        }
    }
}
