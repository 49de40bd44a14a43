import Foundation
/// The shared test support (TemporaryDirectory, ErrorBound, expectClose) for every file of this target.
@_exported import TestSupport

/// Runs a tool and returns its standard output; records a failure (via the thrown error) when it exits non-zero.
func run(_ tool: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: tool)
    process.arguments = arguments
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    // Read before waiting: a full pipe would block the tool.
    let data = output.fileHandleForReading.readDataToEndOfFile()
    let errorData = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw ToolFailure(description: "\(tool) \(arguments.joined(separator: " ")) exited with "
                          + "\(process.terminationStatus): \(String(decoding: errorData, as: UTF8.self))")
    }
    return String(decoding: data, as: UTF8.self)
}

struct ToolFailure: Error, CustomStringConvertible {
    var description: String
}

/// Undoes h5dump 1.10's escaping of string bytes: it prints each byte >= 0x80 as the octal value of the
/// sign-extended C `char` (`\37777777703` for 0xC3). Returns the quoted strings of the dump in order.
func h5dumpStrings(_ dump: String) -> [String] {
    let text = Array(dump.utf8)
    var strings: [String] = []
    var bytes: [UInt8] = []
    var inside = false
    var index = 0
    func isOctal(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "7") }
    while index < text.count {
        let byte = text[index]
        index += 1
        if !inside {
            if byte == UInt8(ascii: "\"") { inside = true; bytes = [] }
        } else if byte == UInt8(ascii: "\"") {
            strings.append(String(decoding: bytes, as: UTF8.self))
            inside = false
        } else if byte == UInt8(ascii: "\\"), index < text.count {
            if isOctal(text[index]) {
                // A sign-extended byte is always 11 octal digits (37777777xxx); other escapes have at most 3.
                let signExtended = text[index...].starts(with: Array("37777777".utf8))
                let end = min(text.count, index + (signExtended ? 11 : 3))
                var value: UInt64 = 0
                while index < end, isOctal(text[index]) {
                    value = value &* 8 &+ UInt64(text[index] - UInt8(ascii: "0"))
                    index += 1
                }
                bytes.append(UInt8(truncatingIfNeeded: value))
            } else {
                bytes.append(text[index])  // \" or \\
                index += 1
            }
        } else {
            bytes.append(byte)
        }
    }
    return strings
}
