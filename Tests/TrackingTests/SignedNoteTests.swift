import Foundation
import Testing
import Tracking

@Suite("C2SP signed notes and checkpoints")
struct SignedNoteTests {
  static let peterPrivate =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
  static let peterVerifier = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
  static let text =
    "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
  static let peterSignature =
    "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
  static let enochSignature =
    "\u{2014} EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"

  @Test("the golang.org/x/mod golden note: key id, verifier key and exact signature")
  func goldenVector() throws {
    let signer = try NoteSigner(privateKey: Self.peterPrivate)
    #expect(signer.verifierKey == Self.peterVerifier)
    #expect(signer.privateKeyText == Self.peterPrivate)
    #expect(try signer.sign(Self.text) == Self.text + "\n" + Self.peterSignature)
    let verifier = try NoteVerifier(Self.peterVerifier)
    #expect(verifier.keyID == [0xc7, 0x4f, 0x20, 0xa3])
    #expect(try verifier.open(Self.text + "\n" + Self.peterSignature) == Self.text)
  }

  @Test("round trip with a new key; an unknown extra signature is ignored")
  func roundTrip() throws {
    let signer = try NoteSigner(name: "postal-gateway.test/custody")
    let note = try signer.sign("hello\n")
    let verifier = try NoteVerifier(signer.verifierKey)
    #expect(try verifier.open(note) == "hello\n")
    let withWitness = try NoteSigner(privateKey: Self.peterPrivate).sign("hello\n")
    let cosigned =
      note
      + withWitness.split(separator: "\n", omittingEmptySubsequences: false).suffix(2).joined(
        separator: "\n"
      )
    #expect(try verifier.open(cosigned) == "hello\n")
    #expect(
      try NoteVerifier(Self.peterVerifier).open(
        Self.text + "\n" + Self.peterSignature + Self.enochSignature
      ) == Self.text
    )
  }

  @Test("a modified body or signature fails; another key's note fails")
  func tamperingFails() throws {
    let verifier = try NoteVerifier(Self.peterVerifier)
    let note = Self.text + "\n" + Self.peterSignature
    #expect(throws: NoteError.self) {
      try verifier.open(note.replacingOccurrences(of: "problem,", with: "problem;"))
    }
    #expect(throws: NoteError.self) {
      try verifier.open(note.replacingOccurrences(of: "x08go", with: "x08gp"))
    }
    #expect(throws: NoteError.self) { try verifier.open(Self.text + "\n" + Self.enochSignature) }
    for malformed in [
      Self.text, Self.text + "\n", Self.text + "\n" + Self.peterSignature.dropLast(),
      "\u{1}" + note,
      note + "Unexpected line.\n",
    ] {
      #expect(throws: NoteError.self) { try verifier.open(String(malformed)) }
    }
  }

  @Test("malformed keys are refused")
  func badKeys() {
    for key in [
      "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
      "PeterNeumann+c74f20a3+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
      "PeterNeumann+c74f20a3",
      "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ] {
      #expect(throws: NoteError.self) { try NoteVerifier(key) }
    }
    #expect(throws: NoteError.self) {
      try NoteSigner(
        privateKey: "PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
      )
    }
  }

  @Test("checkpoints round-trip and refuse malformed text")
  func checkpoints() throws {
    let root = [UInt8](repeating: 7, count: 32)
    let checkpoint = Checkpoint(origin: "postal-gateway.local/custody", size: 42, root: root)
    #expect(
      checkpoint.text
        == "postal-gateway.local/custody\n42\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n"
    )
    #expect(try Checkpoint(text: checkpoint.text) == checkpoint)
    for bad in [
      "x\n042\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n", "x\n42\nBwcH\n",
      "\n42\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n", "x\n42",
    ] {
      #expect(throws: NoteError.self) { try Checkpoint(text: bad) }
    }
  }

  @Test("base64 round-trips and refuses non-canonical input")
  func base64() {
    for length in 0 ..< 40 {
      let bytes = (0 ..< length).map { UInt8(truncatingIfNeeded: $0 * 37) }
      #expect(Base64.decode(Base64.encode(bytes)) == bytes)
    }
    #expect(Base64.decode("ZG9uJ3QgY2FyZSAx") == Array("don't care 1".utf8))
    #expect(Base64.decode("QQ=") == nil)
    #expect(Base64.decode("QR==") == nil)
    #expect(Base64.decode("Q Q==") == nil)
  }
}
