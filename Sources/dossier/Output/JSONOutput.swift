import Foundation

/// Output as JSON: pretty, sorted keys, one document.
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
