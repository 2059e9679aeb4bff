import Foundation
import GRPCCore
import Proto
import SwiftProtobuf
import Synchronization
import Testing
import Tracking

@testable import PostalGateway

/// Revocation end to end over real mutual TLS: the signed list, SIGHUP's reload, open streams.
@Suite("Certificate and device-key revocation")
struct RevocationTests {
  let pki = TestPKI.shared

  /// Writes a list signed by `signer` (the test CA unless given) into the gateway's data
  /// directory.
  static func publish(
    _ list: RevocationListFile.List,
    in gateway: RunningGateway,
    signer: CertificateAuthority = TestPKI.shared.ca
  ) throws {
    let data = try RevocationListFile.encode(RevocationListFile.sign(list, with: signer.privateKey))
    try data.write(
      to: URL(
        fileURLWithPath: (gateway.dataDirectory as NSString).appendingPathComponent(
          "revocations.json"
        )
      )
    )
  }

  static func serial(_ credential: PEMCredential) throws -> String {
    try RevocationListFile.serial(ofPEM: credential.certificatePEM)
  }

  @Test(
    "a revoked staff certificate is refused at its next call and its open stream ends, while another staff certificate works"
  )
  func revokedCertificateIsCutOff() async throws {
    try await withTestGateway { gateway in
      // An open SyncEvents stream of the certificate about to be revoked.
      let streamEnded = Mutex<RPCError.Code?>(nil)
      let opened = AsyncStream<Void>.makeStream()
      let stream = Task {
        try await gateway.withPartnerClient(self.pki.staff) { counter in
          do {
            try await counter.syncEvents(
              requestProducer: { _ in
                opened.continuation.yield()
                // Keeps the request side open until the server ends the call.
                try await Task.sleep(for: .seconds(60))
              },
              onResponse: { response in
                for try await _ in response.messages {}
              }
            )
          } catch let error as RPCError {
            streamEnded.withLock { $0 = error.code }
          }
        }
      }
      var iterator = opened.stream.makeAsyncIterator()
      await iterator.next()
      // The stream is open; the certificate still works.
      _ = try await gateway.withPartnerClient(self.pki.staff) {
        try await $0.registerPickup(samplePickup())
      }

      var list = RevocationListFile.List(sequence: 1, issuedAt: "2026-12-03T06:00:00Z")
      list.certificates = [
        .init(
          serial: try Self.serial(self.pki.staff),
          revokedAt: "2026-12-03T06:00:00Z",
          reason: "handheld lost"
        )
      ]
      try Self.publish(list, in: gateway)
      #expect(try gateway.gateway.reloadRevocations() == 1)

      try await stream.value
      #expect(streamEnded.withLock { $0 } == .unauthenticated)
      let refused = await rpcError {
        _ = try await gateway.withPartnerClient(self.pki.staff) {
          try await $0.registerPickup(samplePickup())
        }
      }
      #expect(refused?.code == .unauthenticated)
      #expect(refused?.message.contains("revoked") == true)
      // Another staff member's certificate from the same CA keeps working.
      _ = try await gateway.withPartnerClient(self.pki.otherStaff) {
        try await $0.registerPickup(samplePickup())
      }
    }
  }

  @Test("a list not signed by the partners' CA, or older than the one in force, changes nothing")
  func forgedOrOlderListIsRefused() async throws {
    try await withTestGateway { gateway in
      var list = RevocationListFile.List(sequence: 5, issuedAt: "2026-12-03T06:00:00Z")
      list.identities = [
        .init(spiffeId: HandoverKeys.staffID, revokedAt: "2026-12-03T06:00:00Z", reason: "left")
      ]
      let stranger = try CertificateAuthority.create(commonName: "stranger")
      try Self.publish(list, in: gateway, signer: stranger)
      #expect(throws: ConfigurationError.self) { try gateway.gateway.reloadRevocations() }

      try Self.publish(RevocationListFile.List(sequence: 5, issuedAt: "x"), in: gateway)
      #expect(try gateway.gateway.reloadRevocations() == 5)
      try Self.publish(list.with(sequence: 4), in: gateway)
      #expect(throws: ConfigurationError.self) { try gateway.gateway.reloadRevocations() }
      _ = try await gateway.withPartnerClient(self.pki.staff) {
        try await $0.registerPickup(samplePickup())
      }
    }
  }

  @Test(
    "a revoked device key's handovers synced from a handheld count when signed before the revocation and are refused after it"
  )
  func revokedDeviceKeyRefusesLaterSignatures() async throws {
    try await withTestGateway { gateway in
      let keys = HandoverKeys()
      try await keys.register(on: gateway)
      var list = RevocationListFile.List(sequence: 1, issuedAt: "2026-12-03T06:00:00Z")
      try await gateway.withPartnerClient(self.pki.staff) { counter in
        func dispatched() async throws -> Postalgateway_V1_Shipment {
          let number = try await counter.registerPickup(samplePickup()).shipment.trackingNumber
          _ = try await counter.recordCollection(collectionRequest(number))
          for (index, document) in ["TO_KHAI", "GIAY_TO_TUY_THAN"].enumerated() {
            _ = try await upload(
              counter,
              number: number,
              documentID: document,
              bytes: pdfBytes(3000, seed: UInt8(index))
            )
          }
          return try await counter.recordEvent(eventRequest(number, .dispatched)).shipment
        }
        let before = try await dispatched()
        let after = try await dispatched()
        // Signed offline a moment before the revocation, and at it.
        try await Task.sleep(for: .milliseconds(50))
        let signedBefore = Date()
        try await Task.sleep(for: .milliseconds(50))
        let revokedAt = Date()
        list.deviceKeys = [
          .init(
            keyId: HandoverKeys.keyID(keys.staff),
            revokedAt: Timestamp(microseconds: Int64(revokedAt.timeIntervalSince1970 * 1e6))
              .description,
            reason: "handheld lost"
          )
        ]
        try Self.publish(list, in: gateway)
        try gateway.gateway.reloadRevocations()

        func handover(
          _ shipment: Postalgateway_V1_Shipment,
          at time: Date,
          sequence: Int64
        ) throws -> Postalgateway_V1_SyncEventsRequest {
          let occurredAt = Google_Protobuf_Timestamp(date: time)
          let signed = try keys.handover(shipment, kind: .handedToAgency, occurredAt: occurredAt)
          return .with {
            $0.deviceID = "handheld-lost"
            $0.deviceSequence = sequence
            $0.deviceTime = occurredAt
            $0.recordEvent = .with {
              $0.trackingNumber = shipment.trackingNumber
              $0.type = .handedToAgency
              $0.handover = signed
            }
          }
        }
        let messages = [
          try handover(before, at: signedBefore, sequence: 1),
          try handover(after, at: revokedAt, sequence: 2),
        ]
        let outcomes = try await counter.syncEvents(
          requestProducer: { try await $0.write(contentsOf: messages) },
          onResponse: { response in
            try await response.messages.reduce(into: []) { $0.append($1) }
          }
        )
        #expect(outcomes.map(\.status) == [.accepted, .rejected], "\(outcomes.map(\.message))")
        #expect(outcomes.last?.code == Int32(RPCError.Code.permissionDenied.rawValue))
        #expect(outcomes.last?.message.contains("revoked") == true)
        for (shipment, state) in [(before, .handedToAgency), (after, .inTransit)]
          as [(Postalgateway_V1_Shipment, Postalgateway_V1_ShipmentState)]
        {
          let number = shipment.trackingNumber
          #expect(
            try await counter.getShipment(.with { $0.trackingNumber = number }).state == state
          )
        }
      }
    }
  }
}

extension RevocationListFile.List {
  func with(sequence: Int64) -> Self {
    var copy = self
    copy.sequence = sequence
    return copy
  }
}
