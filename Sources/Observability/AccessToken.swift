import Foundation
import Hummingbird

/// A bearer token for a daemon's HTTP server, read from a file (`--http-token-file`), so
/// that a dashboard bound beyond loopback is not open to whoever can reach the port.
///
/// A request carries it as `Authorization: Bearer TOKEN`, or as `?token=TOKEN` (how a
/// browser opens the dashboard; the page passes it on to every API call it makes).
public struct AccessToken: Sendable {
    let value: [UInt8]

    /// - Throws: `AccessTokenError` when the file cannot be read or holds fewer than 16
    ///   characters (after trimming whitespace).
    public init(file path: String) throws(AccessTokenError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AccessTokenError(description: "cannot read the HTTP token file \(path)")
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard token.utf8.count >= 16 else {
            throw AccessTokenError(description: "the HTTP token in \(path) is shorter than 16 characters; use e.g. `openssl rand -hex 32 > \(path)`")
        }
        value = Array(token.utf8)
    }

    /// Compares in time independent of where the strings differ.
    func matches(_ candidate: Substring) -> Bool {
        let bytes = Array(candidate.utf8)
        guard bytes.count == value.count else { return false }
        return zip(bytes, value).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    func admits(_ request: Request) -> Bool {
        if let header = request.headers[.authorization], header.hasPrefix("Bearer ") {
            return matches(header.dropFirst("Bearer ".count))
        }
        if let query = request.uri.queryParameters.get("token") { return matches(Substring(query)) }
        return false
    }
}

/// A token file that cannot be used.
public struct AccessTokenError: Error, CustomStringConvertible {
    public let description: String
}

/// Answers 401 to any request without the token.
struct AccessTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: AccessToken

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard token.admits(request) else {
            return Response(
                status: .unauthorized, headers: [.wwwAuthenticate: "Bearer", .contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"error":"a bearer token is required (Authorization: Bearer TOKEN, or ?token=TOKEN)"}"#)))
        }
        return try await next(request, context)
    }
}
