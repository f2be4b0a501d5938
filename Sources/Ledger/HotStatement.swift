import Foundation
import GRDB
import GRDBSQLite

/// A value bound to a statement's parameter.
enum SQLValue {
    case int(Int64)
    case text(String)
    case blob(Data)
    case null

    static func int(_ value: Int) -> SQLValue { .int(Int64(value)) }
    static func text(_ value: String?) -> SQLValue { value.map { .text($0) } ?? .null }
}

/// Runs a cached GRDB statement through SQLite's C API: bind, step, reset.
///
/// The ledger writes several rows per task, a hundred thousand tasks a second; GRDB's
/// `execute(arguments:)` boxes every argument in an existential and validates it, which
/// cost more than SQLite's own work. The statements stay GRDB's (cached, prepared once,
/// inside GRDB's transaction); only binding and stepping go around it.
enum HotStatement {
    /// SQLite copies the bytes before the call returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    static func run(_ statement: Statement, _ values: [SQLValue], in db: Database) throws {
        let handle = statement.sqliteStatement
        sqlite3_reset(handle)
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let code: Int32
            switch value {
            case .int(let number): code = sqlite3_bind_int64(handle, index, number)
            case .null: code = sqlite3_bind_null(handle, index)
            case .text(var text):
                // A native string's UTF-8 is read in place; an empty one must still bind as
                // '' (a nil pointer would bind NULL).
                code = text.isEmpty
                    ? sqlite3_bind_text(handle, index, "", 0, transient)
                    : text.withUTF8 { sqlite3_bind_text(handle, index, $0.baseAddress, Int32($0.count), transient) }
            case .blob(let data):
                code = data.isEmpty
                    ? sqlite3_bind_zeroblob(handle, index, 0)
                    : data.withUnsafeBytes { sqlite3_bind_blob(handle, index, $0.baseAddress, Int32($0.count), transient) }
            }
            guard code == SQLITE_OK else { throw error(code, db) }
        }
        let code = sqlite3_step(handle)
        sqlite3_reset(handle)
        guard code == SQLITE_DONE else { throw error(code, db) }
    }

    private static func error(_ code: Int32, _ db: Database) -> DatabaseError {
        let message = db.sqliteConnection.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) }
        return DatabaseError(resultCode: ResultCode(rawValue: code), message: message)
    }
}
