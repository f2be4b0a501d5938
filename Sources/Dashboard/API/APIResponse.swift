import Foundation
import Hummingbird
import SwiftProtobuf

/// How the API answers: JSON (the wire's messages in protobuf's JSON mapping with the
/// proto's own field names and 64-bit numbers as numbers; as in that mapping, a field at
/// its zero value is left out — read a missing number as 0), or Codable values, SVG, or a JSON error naming what was wrong.
enum APIResponse {
    static let protobufJSON: JSONEncodingOptions = {
        var options = JSONEncodingOptions()
        options.alwaysPrintInt64sAsNumbers = true
        options.preserveProtoFieldNames = true
        return options
    }()

    static func json(_ message: some SwiftProtobuf.Message) -> Response {
        json(text: (try? message.jsonString(options: protobufJSON)) ?? "{}")
    }

    /// Codable values as JSON: keys sorted, NaN and infinities as the strings "NaN",
    /// "Infinity" and "-Infinity" (a diverged loss is a point worth seeing, and plain JSON
    /// has no number for it).
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return encoder
    }

    static func json(_ value: some Encodable) -> Response {
        json(text: (try? encoder().encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}")
    }

    static func json(text: String, status: HTTPResponse.Status = .ok) -> Response {
        respond(text, type: "application/json; charset=utf-8", status: status)
    }

    static func svg(_ text: String) -> Response { respond(text, type: "image/svg+xml; charset=utf-8") }

    static func respond(_ text: String, type: String, status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) -> Response {
        var headers: HTTPFields = [.contentType: type, .cacheControl: "no-store"]
        headers.append(contentsOf: extra)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// `{"error": "..."}` with `status`.
    static func error(_ status: HTTPResponse.Status, _ message: String) -> Response {
        json(text: APIResponse.encode(["error": message]), status: status)
    }

    static func encode(_ object: Any) -> String {
        guard JSONSerialization.isValidJSONObject(object),
            let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// A JSON text as a value to embed in a larger object (null when it does not parse).
    static func embedded(_ json: String) -> Any {
        guard !json.isEmpty, let value = try? JSONSerialization.jsonObject(with: Data(json.utf8), options: [.fragmentsAllowed]) else { return NSNull() }
        return value
    }

    static func embedded(_ message: some SwiftProtobuf.Message) -> Any {
        embedded((try? message.jsonString(options: protobufJSON)) ?? "")
    }

    static func embedded(_ value: (some Encodable)?) -> Any {
        guard let value, let data = try? encoder().encode(value) else { return NSNull() }
        return embedded(String(decoding: data, as: UTF8.self))
    }
}
