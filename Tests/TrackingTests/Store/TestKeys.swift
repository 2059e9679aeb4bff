import Persistence

/// The key-encryption keys of every store a test opens in this process (a store reopened by
/// a test reads what the first opening sealed).
enum TestKeys {
  static let shared = EphemeralKeyEncryptionKeys()
}
