import ArgumentParser
import Foundation
import Logging
import Messaging
import Runtime

/// `--curve-key`, `--curve-coordinator-key`, `--curve-allow` (or `$ORRERY_CURVE_KEY`,
/// `$ORRERY_CURVE_COORDINATOR_KEY`, `$ORRERY_CURVE_ALLOW`): CURVE encryption and key
/// allow-lists for every command that opens a socket. With none of them set, traffic is
/// plaintext, as on one host.
struct CurveOptions: ParsableArguments {
    @Option(name: .long, help: "This process's CURVE secret key file, from 'orrery keygen' (default: $ORRERY_CURVE_KEY). Turns CURVE on.")
    var curveKey: String?

    @Option(name: .long, help: "The coordinator's CURVE public key: its .pub file or its 40 Z85 characters (default: $ORRERY_CURVE_COORDINATOR_KEY).")
    var curveCoordinatorKey: String?

    @Option(name: .long, help: "File of the CURVE public keys admitted (one per line, the form of .pub files; re-read on SIGHUP) (default: $ORRERY_CURVE_ALLOW).")
    var curveAllow: String?

    /// Who uses the settings: what each needs besides its own key.
    enum Role {
        /// Admits workers and clients: needs an allow-list.
        case coordinator
        /// Connects to the coordinator and admits gang peers on its data plane.
        case worker(dataPlane: Bool)
        /// Connects to the coordinator only.
        case client
    }

    private var environment: [String: String] { ProcessInfo.processInfo.environment }
    private var keyPath: String? { curveKey ?? environment["ORRERY_CURVE_KEY"].flatMap { $0.isEmpty ? nil : $0 } }
    private var coordinatorKey: String? { curveCoordinatorKey ?? environment["ORRERY_CURVE_COORDINATOR_KEY"].flatMap { $0.isEmpty ? nil : $0 } }
    private var allowPath: String? { curveAllow ?? environment["ORRERY_CURVE_ALLOW"].flatMap { $0.isEmpty ? nil : $0 } }

    /// The settings for `role`, nil when CURVE is off.
    /// - Throws: `ValidationError` naming the flag or file that is missing or wrong (exit 2).
    func security(for role: Role) throws -> CurveSecurity? {
        guard let keyPath else {
            if coordinatorKey != nil || allowPath != nil {
                throw ValidationError("--curve-coordinator-key and --curve-allow need --curve-key (this process's own key)")
            }
            return nil
        }
        guard ZMQContext.hasCurve else { throw ValidationError("--curve-key: this libzmq was built without CURVE") }
        do {
            var security = CurveSecurity(keyPair: try CurveKeyFile.readKeyPair(path: keyPath))
            switch role {
            case .coordinator:
                guard let allowPath else { throw ValidationError("--curve-key on the coordinator needs --curve-allow: the worker and client keys it admits") }
                security.allowList = try CurveAllowList(path: allowPath)
            case .worker(let dataPlane):
                security.serverKey = try requiredCoordinatorKey()
                if dataPlane {
                    guard let allowPath else {
                        throw ValidationError("--curve-key on a worker with a data plane needs --curve-allow: the gang peers' keys it admits (or --data-bind none)")
                    }
                    security.allowList = try CurveAllowList(path: allowPath)
                }
            case .client:
                security.serverKey = try requiredCoordinatorKey()
            }
            return security
        } catch let error as CurveError {
            throw ValidationError("CURVE: \(error)")
        }
    }

    /// `security(for:)` as a command's exit: a wrong setting is an invalid argument (2).
    func resolved(for role: Role) throws -> CurveSecurity? {
        do { return try security(for: role) } catch let error as ValidationError {
            throw CommandFailure.exit(error.message, code: CommandFailure.invalidInput)
        }
    }

    private func requiredCoordinatorKey() throws -> CurvePublicKey {
        guard let coordinatorKey else { throw ValidationError("--curve-key needs --curve-coordinator-key: the coordinator's public key") }
        return try CurveKeyFile.readPublicKey(coordinatorKey)
    }

    /// Re-reads the allow-list on every SIGHUP, logging what it holds or why it was kept.
    static func reloadOnHangup(_ security: CurveSecurity?, logger: Logger) async -> Task<Void, Never>? {
        guard let allowList = security?.allowList else { return nil }
        return await HangupSignal.onEach {
            do {
                let count = try allowList.reload()
                logger.notice("allow-list re-read", metadata: ["file": "\(allowList.path)", "keys": "\(count)"])
            } catch {
                logger.error("allow-list not re-read; the previous one stays", metadata: ["why": "\(error)"])
            }
        }
    }
}
