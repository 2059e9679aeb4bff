import Crypto

/// An Ed25519 note signer and its verifier key, in the C2SP signed-note formats.
///
/// - Verifier key: `<name>+<key id hex>+<base64(0x01 ‖ public key)>`.
/// - Private key: `PRIVATE+KEY+<name>+<key id hex>+<base64(0x01 ‖ seed)>`.
/// - Key id: the first four bytes of `SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)`.
public struct NoteSigner: Sendable {
  /// The key's name (no spaces, no `+`).
  public let name: String
  private let key: Curve25519.Signing.PrivateKey

  /// A new random key.
  public init(name: String) throws {
    try NoteKeys.checkName(name)
    self.name = name
    self.key = Curve25519.Signing.PrivateKey()
  }

  /// Parses a private key.
  /// - Throws: ``NoteError`` when it is malformed or its key id does not match.
  public init(privateKey text: String) throws {
    // The base64 part may itself contain '+'.
    let parts = text.split(separator: "+", maxSplits: 4, omittingEmptySubsequences: false)
    guard parts.count == 5, parts[0] == "PRIVATE", parts[1] == "KEY" else {
      throw NoteError("malformed private key")
    }
    let name = String(parts[2])
    try NoteKeys.checkName(name)
    guard let decoded = Base64.decode(parts[4]), decoded.count == 33, decoded[0] == 0x01,
      let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: decoded[1...])
    else { throw NoteError("malformed private key") }
    let publicKey = Array(key.publicKey.rawRepresentation)
    guard NoteKeys.hexKeyID(name: name, publicKey: publicKey) == parts[3] else {
      throw NoteError("private key id does not match")
    }
    self.name = name
    self.key = key
  }

  /// The private key text (keep it secret).
  public var privateKeyText: String {
    "PRIVATE+KEY+\(self.name)+\(NoteKeys.hexKeyID(name: self.name, publicKey: self.publicKey))+"
      + Base64.encode([0x01] + Array(self.key.rawRepresentation))
  }

  /// The Ed25519 public key.
  public var publicKey: [UInt8] { Array(self.key.publicKey.rawRepresentation) }

  /// The verifier key text, e.g. `example.com/log+12345678+AUK…`.
  public var verifierKey: String {
    "\(self.name)+\(NoteKeys.hexKeyID(name: self.name, publicKey: self.publicKey))+"
      + Base64.encode([0x01] + self.publicKey)
  }

  /// Signs a note's text.
  /// - Parameter text: Non-empty, ends with a newline.
  /// - Returns: The note: the text, a blank line, and this key's signature line.
  public func sign(_ text: String) throws -> String {
    guard text.hasSuffix("\n"), !text.isEmpty else { throw NoteError("malformed note") }
    let signature = try self.key.signature(for: Array(text.utf8))
    let keyID = NoteKeys.keyID(name: self.name, publicKey: self.publicKey)
    return text + "\n" + "\u{2014} \(self.name) " + Base64.encode(keyID + Array(signature)) + "\n"
  }
}

/// A verifier key.
public struct NoteVerifier: Hashable, Sendable {
  /// The key's name.
  public let name: String
  /// The key id.
  public let keyID: [UInt8]
  /// The Ed25519 public key.
  public let publicKey: [UInt8]

  /// Parses `<name>+<key id hex>+<base64(0x01 ‖ public key)>`.
  /// - Throws: ``NoteError`` when it is malformed, not Ed25519, or the key id does not match.
  public init(_ text: String) throws {
    // The base64 part may itself contain '+'.
    let parts = text.split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
    guard parts.count == 3 else { throw NoteError("malformed verifier key") }
    let name = String(parts[0])
    try NoteKeys.checkName(name)
    guard let decoded = Base64.decode(parts[2]), decoded.count == 33, decoded[0] == 0x01 else {
      throw NoteError("malformed verifier key")
    }
    let publicKey = Array(decoded[1...])
    guard parts[1].count == 8, NoteKeys.hexKeyID(name: name, publicKey: publicKey) == parts[1]
    else {
      throw NoteError("verifier key id does not match")
    }
    self.name = name
    self.keyID = NoteKeys.keyID(name: name, publicKey: publicKey)
    self.publicKey = publicKey
  }

  /// Opens a signed note: it must carry a valid signature by this key. Signatures by other keys
  /// are ignored (that is how rotation and witness cosignatures work); a bad signature by this
  /// key is an error.
  /// - Returns: The note's text.
  /// - Throws: ``NoteError``.
  public func open(_ note: String) throws -> String {
    let bytes = Array(note.utf8)
    guard bytes.last == 0x0A, let split = Self.lastBlankLine(bytes) else {
      throw NoteError("malformed note")
    }
    let text = Array(bytes[..<(split + 1)])
    let signatureBlock = bytes[(split + 2)...]
    guard !text.isEmpty, !text.contains(where: { $0 < 0x20 && $0 != 0x0A }) else {
      throw NoteError("malformed note")
    }
    let lines = signatureBlock.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast()
    guard !lines.isEmpty, lines.count <= 100 else { throw NoteError("malformed note") }
    let prefix = Array("\u{2014} ".utf8)
    var verified = false
    for line in lines {
      guard line.starts(with: prefix) else { throw NoteError("malformed note") }
      let rest = line.dropFirst(prefix.count)
      guard let space = rest.lastIndex(of: 0x20) else { throw NoteError("malformed note") }
      let name = String(decoding: rest[..<space], as: UTF8.self)
      guard (try? NoteKeys.checkName(name)) != nil,
        let decoded = Base64.decode(String(decoding: rest[(space + 1)...], as: UTF8.self)),
        decoded.count >= 5
      else { throw NoteError("malformed note") }
      guard name == self.name, Array(decoded.prefix(4)) == self.keyID else { continue }
      guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: self.publicKey),
        key.isValidSignature(decoded.dropFirst(4), for: text)
      else { throw NoteError("invalid signature for key \(self.name)") }
      verified = true
    }
    guard verified else { throw NoteError("note has no signature by \(self.name)") }
    return String(decoding: text, as: UTF8.self)
  }

  private static func lastBlankLine(_ bytes: [UInt8]) -> Int? {
    // The text ends at the last "\n\n" (its first newline is the text's own).
    guard bytes.count >= 2 else { return nil }
    var index = bytes.count - 2
    while index >= 0 {
      if bytes[index] == 0x0A, bytes[index + 1] == 0x0A { return index }
      index -= 1
    }
    return nil
  }
}

/// Key ids and names shared by signers and verifiers.
enum NoteKeys {
  static func keyID(name: String, publicKey: [UInt8]) -> [UInt8] {
    Array(SHA256.hash(data: Array(name.utf8) + [0x0A, 0x01] + publicKey).prefix(4))
  }

  static func hexKeyID(name: String, publicKey: [UInt8]) -> String {
    Self.keyID(name: name, publicKey: publicKey).map { byte in
      let digits = Array("0123456789abcdef")
      return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
    }.joined()
  }

  static func checkName(_ name: String) throws {
    guard !name.isEmpty, !name.contains("+"),
      !name.unicodeScalars.contains(where: { $0.properties.isWhitespace })
    else { throw NoteError("a key name may not be empty or contain spaces or '+'") }
  }
}

/// A malformed or unverifiable note or key.
public struct NoteError: Error, Hashable, Sendable, CustomStringConvertible {
  public var description: String
  init(_ description: String) { self.description = description }
}

/// A C2SP tlog-checkpoint: origin, tree size, root hash.
public struct Checkpoint: Hashable, Sendable {
  /// The log's origin line, e.g. `postal-gateway.local/custody`.
  public var origin: String
  /// The number of leaves.
  public var size: Int64
  /// The RFC 6962 root.
  public var root: [UInt8]

  /// Creates a checkpoint.
  public init(origin: String, size: Int64, root: [UInt8]) {
    self.origin = origin
    self.size = size
    self.root = root
  }

  /// The note text: `origin\nsize\nbase64(root)\n`.
  public var text: String { "\(self.origin)\n\(self.size)\n\(Base64.encode(self.root))\n" }

  /// Parses a checkpoint's text (extension lines after the root are allowed and ignored).
  /// - Throws: ``NoteError``.
  public init(text: String) throws {
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    guard text.hasSuffix("\n"), lines.count >= 4, !lines[0].isEmpty,
      let size = Int64(lines[1]), size >= 0, String(size) == lines[1],
      let root = Base64.decode(lines[2]), root.count == 32
    else { throw NoteError("malformed checkpoint") }
    self.origin = String(lines[0])
    self.size = size
    self.root = root
  }
}
