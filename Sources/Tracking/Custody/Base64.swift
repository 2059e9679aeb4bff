/// Standard base64 (RFC 4648 §4, with padding), strict: no whitespace, canonical padding.
public enum Base64 {
  private static let alphabet = Array(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8
  )
  private static let values: [UInt8: UInt8] = {
    var values: [UInt8: UInt8] = [:]
    for (index, symbol) in Self.alphabet.enumerated() { values[symbol] = UInt8(index) }
    return values
  }()

  /// Encodes bytes.
  public static func encode(_ bytes: some Collection<UInt8>) -> String {
    let input = Array(bytes)
    var output: [UInt8] = []
    output.reserveCapacity((input.count + 2) / 3 * 4)
    var index = 0
    while index + 3 <= input.count {
      let n = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8 | UInt32(input[index + 2])
      output += [18, 12, 6, 0].map { Self.alphabet[Int(n >> $0 & 63)] }
      index += 3
    }
    let rest = input.count - index
    if rest == 1 {
      let n = UInt32(input[index]) << 16
      output += [Self.alphabet[Int(n >> 18 & 63)], Self.alphabet[Int(n >> 12 & 63)], 61, 61]
    } else if rest == 2 {
      let n = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8
      output += [
        Self.alphabet[Int(n >> 18 & 63)], Self.alphabet[Int(n >> 12 & 63)],
        Self.alphabet[Int(n >> 6 & 63)], 61,
      ]
    }
    return String(decoding: output, as: UTF8.self)
  }

  /// Decodes base64, or `nil` if it is not canonical standard base64.
  public static func decode(_ text: some StringProtocol) -> [UInt8]? {
    let input = Array(text.utf8)
    guard input.count % 4 == 0 else { return nil }
    var output: [UInt8] = []
    output.reserveCapacity(input.count / 4 * 3)
    var index = 0
    while index < input.count {
      let chunk = input[index ..< index + 4]
      let isLast = index + 4 == input.count
      let padding = chunk.reversed().prefix { $0 == 61 }.count
      guard padding == 0 || (isLast && padding <= 2) else { return nil }
      var n: UInt32 = 0
      for (offset, symbol) in chunk.enumerated() {
        if offset >= 4 - padding {
          n <<= 6
          continue
        }
        guard let value = Self.values[symbol] else { return nil }
        n = n << 6 | UInt32(value)
      }
      let bytes = [UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)]
      // Canonical: the bits dropped by padding must be zero.
      if padding == 1, bytes[2] != 0 { return nil }
      if padding == 2, bytes[1] != 0 || bytes[2] != 0 { return nil }
      output += bytes.prefix(3 - padding)
      index += 4
    }
    return output
  }
}
