import Foundation

/// One setting's value in a search space: an integer, a real number or a word. The text
/// form (`description`) is what configurations are encoded with, on the wire and in reports,
/// and `init(parsing:)` reads it back.
public enum ParameterValue: Hashable, Sendable, CustomStringConvertible, Comparable {
    case integer(Int)
    case real(Double)
    case text(String)

    /// The value as a number, when it is one (integers too).
    public var number: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .real(let value): value
        case .text: nil
        }
    }

    public var description: String {
        switch self {
        case .integer(let value): String(value)
        case .real(let value): Self.format(value)
        case .text(let value): value
        }
    }

    /// Reads a value's text form: an integer if it is one, else a real number, else a word.
    public init(parsing text: String) {
        if let integer = Int(text) {
            self = .integer(integer)
        } else if let real = Double(text), real.isFinite, text.first.map({ $0.isNumber || $0 == "-" || $0 == "." }) == true {
            self = .real(real)
        } else {
            self = .text(text)
        }
    }

    /// Three significant digits, and never an integer's form (so `real(1)` reads back as a real).
    static func format(_ value: Double) -> String {
        let text = String(format: "%.3g", value)
        return text.contains(where: { $0 == "." || $0 == "e" || $0 == "n" || $0 == "i" }) ? text : text + ".0"
    }

    /// Numbers before words; numbers by value, words alphabetically.
    public static func < (a: ParameterValue, b: ParameterValue) -> Bool {
        switch (a.number, b.number) {
        case (let x?, let y?): return x < y
        case (.some, nil): return true
        case (nil, .some): return false
        case (nil, nil): return a.description < b.description
        }
    }
}
