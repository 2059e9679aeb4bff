import Crypto

/// Keyed hashes of personal data that must be matchable but not readable (identity numbers seen
/// at delivery). The key is derived from the service's secret, which never enters the database.
public struct PersonalDataHasher: Sendable {
  private let key: SymmetricKey

  /// Creates a hasher.
  /// - Parameters:
  ///   - secret: At least 32 random bytes.
  ///   - context: What its key is for: hashers of different contexts have independent keys.
  public init(secret: [UInt8], context: String = "postalgateway personal-data hash v1") {
    precondition(secret.count >= 32, "the secret has at least 32 bytes")
    self.key = HKDF<SHA256>.deriveKey(
      inputKeyMaterial: SymmetricKey(data: secret),
      info: Array(context.utf8),
      outputByteCount: 32
    )
  }

  /// `HMAC-SHA-256(key, purpose ‖ 0 ‖ value)`, hex.
  /// - Parameters:
  ///   - value: The personal data.
  ///   - purpose: What it is, so equal values of different kinds hash differently.
  public func hash(_ value: String, purpose: String) -> String {
    let mac = HMAC<SHA256>.authenticationCode(
      for: Array(purpose.utf8) + [0] + Array(value.utf8),
      using: self.key
    )
    return mac.map { byte in
      let digits = Array("0123456789abcdef")
      return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
    }.joined()
  }
}
