import Foundation

/// Output as JSON: pretty, sorted keys, one document. `DocumentJSON.array` writes the same
/// bytes for `list` and `search` without an encoder: change the options in both.
enum JSONOutput {
    static func print<T: Encodable>(_ value: T) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        if var data = try? encoder.encode(value) {
            data.append(0x0a)
            data.withUnsafeBytes { StandardOutput.write($0) }
        }
    }
}
