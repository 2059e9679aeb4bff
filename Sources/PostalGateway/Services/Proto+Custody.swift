import Foundation
import Proto
import SwiftProtobuf
import Tracking

// Wire ↔ domain for co-signed handovers and the custody log.

extension Postalgateway_V1_Handover {
  /// The validated handover, its counterparty parsed as a SPIFFE ID of this trust domain.
  func domain(
    trustDomain: String,
    at path: String = "handover",
    validator v: inout RequestValidator
  ) -> HandoverInput? {
    let counterparty = SPIFFEIdentity.actor(from: self.counterparty, trustDomain: trustDomain)
    if counterparty == nil {
      v.fail("\(path).counterparty", "must be a SPIFFE ID of this trust domain")
    }
    let giver =
      self.hasGiverSignature
      ? self.giverSignature.domain(at: "\(path).giver_signature", validator: &v) : nil
    if !self.hasGiverSignature { v.fail("\(path).giver_signature", "is required") }
    let receiver =
      self.hasReceiverSignature
      ? self.receiverSignature.domain(at: "\(path).receiver_signature", validator: &v) : nil
    if !self.hasReceiverSignature { v.fail("\(path).receiver_signature", "is required") }
    guard let counterparty, let giver, let receiver else { return nil }
    return HandoverInput(
      counterparty: counterparty,
      giverSignature: giver,
      receiverSignature: receiver
    )
  }
}

extension Postalgateway_V1_PartySignature {
  fileprivate func domain(at path: String, validator v: inout RequestValidator) -> PartySignature? {
    if self.keyID.isEmpty { v.fail("\(path).key_id", "is required") }
    if self.signature.count != 64 {
      v.fail("\(path).signature", "must be 64 bytes of Ed25519 signature")
    }
    guard !self.keyID.isEmpty, self.signature.count == 64 else { return nil }
    return PartySignature(keyID: self.keyID, signature: Array(self.signature))
  }
}

extension Postalgateway_V1_HandoverRecord {
  init(_ record: HandoverRecord) {
    self.init()
    self.giver = record.giver
    self.receiver = record.receiver
    self.statementSha256 = record.statementSHA256
    self.giverKeyID = record.giverKeyID
    self.giverSignature = Data(record.giverSignature)
    self.receiverKeyID = record.receiverKeyID
    self.receiverSignature = Data(record.receiverSignature)
  }
}

extension Postalgateway_V1_SigningKey {
  init(_ key: SigningKey) {
    self.init()
    self.keyID = key.keyID
    self.owner = key.owner
    self.publicKey = Data(key.publicKey)
  }
}

extension Postalgateway_V1_SignedCheckpoint {
  init(_ signed: Tracking.SignedCheckpoint, verifierKey: String) {
    self.init()
    self.note = signed.note
    self.origin = signed.checkpoint.origin
    self.treeSize = signed.checkpoint.size
    self.rootHash = Data(signed.checkpoint.root)
    self.verifierKey = verifierKey
  }
}
