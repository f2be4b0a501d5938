/// One metadata value of a GGUF file. Integers of every width are widened; arrays hold
/// values of one type.
public enum GGUFValue: Sendable, Equatable {
    case unsigned(UInt64)
    case signed(Int64)
    case float(Double)
    case bool(Bool)
    case string(String)
    case array([GGUFValue])

    public var int: Int? {
        switch self {
        case .unsigned(let v): v <= UInt64(Int.max) ? Int(v) : nil
        case .signed(let v): Int(v)
        default: nil
        }
    }

    public var double: Double? {
        switch self {
        case .float(let v): v
        case .unsigned, .signed: int.map(Double.init)
        default: nil
        }
    }

    public var string: String? {
        if case .string(let v) = self { v } else { nil }
    }

    public var array: [GGUFValue]? {
        if case .array(let v) = self { v } else { nil }
    }
}
