import Crypto

/// The secret a citizen gets at registration and presents, with the tracking number, to follow
/// the shipment: ten characters from an alphabet without look-alikes (no 0/O, 1/I/L, U), shown
/// as `XXXXX-XXXXX`.
public struct VerificationCode: Hashable, Sendable, CustomStringConvertible {
  /// The alphabet: 2–9 and the capital letters except I, L, O and U (30 symbols, ~4.9 bits each).
  public static let alphabet = Array("23456789ABCDEFGHJKMNPQRSTVWXYZ")
  /// The number of symbols (about 49 bits).
  public static let length = 10

  /// The ten symbols, without the dash.
  public let symbols: String

  /// Parses a code as a citizen types it: case, spaces and dashes do not matter.
  /// - Parameter string: The code.
  /// - Throws: ``InvalidValue`` when it does not have ten symbols of the alphabet.
  public init(parsing string: String) throws {
    let cleaned = string.uppercased().filter { $0 != "-" && $0 != " " }
    guard cleaned.count == Self.length, cleaned.allSatisfy(Self.alphabet.contains) else {
      throw InvalidValue(
        "must be \(Self.length) characters from 2–9 and A–Z without I, L, O and U"
      )
    }
    self.symbols = cleaned
  }

  init(symbols: String) {
    self.symbols = symbols
  }

  /// `XXXXX-XXXXX`.
  public var description: String {
    "\(self.symbols.prefix(5))-\(self.symbols.suffix(5))"
  }
}

/// What the store keeps about a shipment's verification code: a random nonce from which the
/// issuing key re-derives the code for an idempotent retry, and a salted, keyed hash that
/// verifies it. Neither gives the code without the keys, which live outside the database.
public struct CodeCommitment: Hashable, Sendable {
  /// Random; input to the issuing key.
  public var nonce: [UInt8]
  /// Random; input to the hash.
  public var salt: [UInt8]
  /// HMAC-SHA-256 under the verifying key of `salt ‖ code`.
  public var hash: [UInt8]

  /// Creates a commitment from stored bytes.
  public init(nonce: [UInt8], salt: [UInt8], hash: [UInt8]) {
    self.nonce = nonce
    self.salt = salt
    self.hash = hash
  }
}

/// Issues and checks verification codes.
///
/// One 32-byte secret (kept in the data directory) yields, by HKDF, an issuing key and a
/// verifying key. A code is `HMAC(issuing key, nonce)` mapped onto the alphabet; the store keeps
/// the nonce and `HMAC(verifying key, salt ‖ code)`.
public struct VerificationCodeIssuer: Sendable {
  private let issuingKey: SymmetricKey
  private let verifyingKey: SymmetricKey

  /// Creates an issuer.
  /// - Parameter secret: At least 32 random bytes.
  public init(secret: [UInt8]) {
    precondition(secret.count >= 32, "the verification secret has at least 32 bytes")
    let master = SymmetricKey(data: secret)
    self.issuingKey = HKDF<SHA256>.deriveKey(
      inputKeyMaterial: master,
      info: Array("postalgateway verification-code issue v1".utf8),
      outputByteCount: 32
    )
    self.verifyingKey = HKDF<SHA256>.deriveKey(
      inputKeyMaterial: master,
      info: Array("postalgateway verification-code verify v1".utf8),
      outputByteCount: 32
    )
  }

  /// Makes a new code and what to store about it.
  /// - Parameter generator: The source of randomness.
  /// - Returns: The code, to hand out once, and its commitment, to store.
  public func issue(
    using generator: inout some RandomNumberGenerator
  ) -> (VerificationCode, CodeCommitment) {
    let nonce = (0 ..< 16).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    let salt = (0 ..< 16).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    let code = self.code(for: nonce)
    return (code, CodeCommitment(nonce: nonce, salt: salt, hash: self.hash(code, salt: salt)))
  }

  /// Re-derives the code behind a commitment (for an idempotent retry of the registration).
  /// - Parameter commitment: What the store kept.
  public func code(for commitment: CodeCommitment) -> VerificationCode {
    self.code(for: commitment.nonce)
  }

  /// Checks a presented code against a commitment in constant time.
  /// - Parameters:
  ///   - code: What the citizen typed.
  ///   - commitment: What the store kept, or `nil` for an unknown number (the same work is done
  ///     so that the answer takes the same time).
  /// - Returns: Whether the code matches.
  public func verify(_ code: VerificationCode, against commitment: CodeCommitment?) -> Bool {
    let salt = commitment?.salt ?? [UInt8](repeating: 0, count: 16)
    let presented = self.hash(code, salt: salt)
    guard let commitment, commitment.hash.count == presented.count else { return false }
    var difference: UInt8 = 0
    for (a, b) in zip(presented, commitment.hash) { difference |= a ^ b }
    return difference == 0
  }

  private func code(for nonce: [UInt8]) -> VerificationCode {
    // Rejection sampling keeps the symbols uniform: 240 = 8 × 30.
    var symbols = ""
    var counter: UInt8 = 0
    while symbols.count < VerificationCode.length {
      var input = nonce
      input.append(counter)
      let mac = HMAC<SHA256>.authenticationCode(for: input, using: self.issuingKey)
      for byte in mac where byte < 240 && symbols.count < VerificationCode.length {
        symbols.append(VerificationCode.alphabet[Int(byte) % VerificationCode.alphabet.count])
      }
      counter &+= 1
    }
    return VerificationCode(symbols: symbols)
  }

  private func hash(_ code: VerificationCode, salt: [UInt8]) -> [UInt8] {
    Array(
      HMAC<SHA256>.authenticationCode(
        for: salt + Array(code.symbols.utf8),
        using: self.verifyingKey
      )
    )
  }
}
