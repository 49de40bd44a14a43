import Foundation
internal import TOMLKit

/// A configuration that cannot be used: names the file and the key.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public let file: String?
    public let key: String?
    public let reason: String

    public init(file: String?, key: String?, reason: String) {
        self.file = file
        self.key = key
        self.reason = reason
    }

    public var description: String {
        var parts: [String] = []
        if let file { parts.append(file) }
        if let key { parts.append("key '\(key)'") }
        parts.append(reason)
        return parts.joined(separator: ": ")
    }
}

/// Reading GenreKit's TOML configuration files (`pipelines/*.toml`) into `Codable` values: every failure becomes a
/// ``ConfigurationError`` naming the file and, when there is one, the dotted key (`stft.n_fft`).
///
/// The types decoded write their own `init(from:)` with the helpers below: ``Swift/Decoder/rejectUnknownKeys(_:)``
/// first (an unknown key is an error listing the known ones), then `value(_:default:)`, `number(_:)` and
/// `choice(_:default:)` for keys that may be missing.
public enum TOMLConfiguration {
    /// The text of the UTF-8 file at `path`.
    public static func readText(path: String) throws(ConfigurationError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(file: path, key: nil, reason: "cannot read the file (missing or unreadable)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigurationError(file: path, key: nil, reason: "not UTF-8 text")
        }
        return text
    }

    /// Decodes the TOML `text` (from `file`, named in errors) as a `T`.
    public static func decode<T: Decodable>(_ type: T.Type, from text: String, file: String?) throws(ConfigurationError) -> T {
        do {
            return try TOMLDecoder().decode(T.self, from: text)
        } catch let error as TOMLParseError {
            throw ConfigurationError(
                file: file, key: nil,
                reason: "TOML syntax error at line \(error.source.begin.line): \(error.description)")
        } catch let error as ConfigurationError {
            throw ConfigurationError(file: file, key: error.key, reason: error.reason)
        } catch let error as DecodingError {
            throw ConfigurationError(file: file, key: error.keyPath, reason: error.reason)
        } catch {
            throw ConfigurationError(file: file, key: nil, reason: "\(error)")
        }
    }
}

extension DecodingError {
    /// The dotted key the error is about (`mel.fmax`), nil at the top level.
    package var keyPath: String? {
        let path: [any CodingKey]
        switch self {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): path = c.codingPath
        case .keyNotFound(let key, let c): path = c.codingPath + [key]
        @unknown default: return nil
        }
        return path.isEmpty ? nil : path.map(\.stringValue).joined(separator: ".")
    }

    /// What is wrong, in words.
    package var reason: String {
        switch self {
        case .typeMismatch(let type, _): "expected a value of type \(type)"
        case .valueNotFound(let type, _): "missing a value of type \(type)"
        case .keyNotFound: "required key is missing"
        case .dataCorrupted(let c): c.debugDescription
        @unknown default: "\(self)"
        }
    }
}

// MARK: - Codable with defaults, snake_case keys and unknown-key detection

/// Any string key, to list every key a table holds.
package struct AnyKey: CodingKey {
    package var stringValue: String
    package var intValue: Int? { nil }
    package init(stringValue: String) { self.stringValue = stringValue }
    package init?(intValue: Int) { nil }
}

extension Decoder {
    /// Throws when the table holds a key that is not one of `known`.
    package func rejectUnknownKeys<K: CodingKey & CaseIterable>(_: K.Type) throws {
        let container = try self.container(keyedBy: AnyKey.self)
        let known = Set(K.allCases.map(\.stringValue))
        for key in container.allKeys where !known.contains(key.stringValue) {
            let path = (codingPath.map(\.stringValue) + [key.stringValue]).joined(separator: ".")
            throw ConfigurationError(
                file: nil, key: path,
                reason: "unknown key (known here: \(known.sorted().joined(separator: ", ")))")
        }
    }
}

extension KeyedDecodingContainer {
    /// A number that TOML may spell as an integer (`fmax = 11025`) or a float (`fmax = 11025.0`).
    package func number(_ key: Key) throws -> Double? {
        guard contains(key) else { return nil }
        if let d = try? decode(Double.self, forKey: key) { return d }
        if let i = try? decode(Int.self, forKey: key) { return Double(i) }
        throw DecodingError.typeMismatch(
            Double.self, .init(codingPath: codingPath + [key], debugDescription: "expected a number"))
    }

    /// An array of numbers, each spelled as an integer or a float (`c_grid = [0.01, 1, 10]`); nil when missing.
    package func numbers(_ key: Key) throws -> [Double]? {
        guard contains(key) else { return nil }
        if let d = try? decode([Double].self, forKey: key) { return d }
        var list = try nestedUnkeyedContainer(forKey: key)
        var values: [Double] = []
        while !list.isAtEnd {
            if let d = try? list.decode(Double.self) {
                values.append(d)
            } else if let i = try? list.decode(Int.self) {
                values.append(Double(i))
            } else {
                throw DecodingError.typeMismatch(
                    Double.self, .init(codingPath: codingPath + [key], debugDescription: "expected an array of numbers"))
            }
        }
        return values
    }

    /// The value of `key`, or `value` when the key is missing.
    package func value<T: Decodable>(_ key: Key, default value: T) throws -> T {
        try decodeIfPresent(T.self, forKey: key) ?? value
    }

    /// An enum spelled as a string; an unknown spelling lists the valid ones.
    package func choice<T: RawRepresentable & CaseIterable & Decodable>(_ key: Key, default value: T) throws -> T
    where T.RawValue == String {
        guard let raw = try decodeIfPresent(String.self, forKey: key) else { return value }
        guard let v = T(rawValue: raw) else {
            let path = (codingPath + [key]).map(\.stringValue).joined(separator: ".")
            throw ConfigurationError(
                file: nil, key: path,
                reason: "'\(raw)' is not one of: \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return v
    }
}
