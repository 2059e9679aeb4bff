import Crypto
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCProtobuf
import Proto
import SwiftProtobuf
import Testing
import Tracking

@testable import PostalGateway

/// The dossier and result lifecycle through the real API over mutual TLS.
@Suite("Dossier and result lifecycle end to end")
struct LifecycleEndToEndTests {
  let pki = TestPKI.shared

  static func time(_ iso: String) -> Google_Protobuf_Timestamp {
    let formatter = ISO8601DateFormatter()
    // The tests pass well-formed literals.
    return Google_Protobuf_Timestamp(date: formatter.date(from: iso)!)
  }

  static func proof(
    papers: [String] = [],
    fee: Int64 = 0
  ) -> Postalgateway_V1_RecordDeliveryAttemptRequest.Proof {
    .with {
      $0.recipientName = "Nguyễn Văn An"
      $0.identityType = .citizenIDCard
      $0.identityNumber = "019184000777"
      $0.signatureSha256 = String(repeating: "ab", count: 32)
      $0.photoSha256 = String(repeating: "cd", count: 32)
      $0.papersRecalled = papers
      $0.feesCollectedVnd = fee
    }
  }

  @Test("a DOSSIER_AND_RESULT shipment goes from pickup to DELIVERED with every paper digitized")
  func pickupToDelivery() async throws {
    try await withTestGateway { gateway in
      let keys = HandoverKeys()
      try await keys.register(on: gateway)
      try await gateway.withPartnerClient(self.pki.staff) { counter in
        let procedure = try await counter.getProcedure(.with { $0.procedureCode = "2.000635" })
        #expect(procedure.documents.map(\.id) == ["TO_KHAI", "GIAY_TO_TUY_THAN"])
        #expect(procedure.feeVnd == 0)
        #expect(procedure.feeRules.map(\.perCopyVnd) == [8000])

        var pickup = samplePickup()
        pickup.destinationAgencyCode = ""  // taken from the catalog
        let registered = try await counter.registerPickup(pickup)
        let number = registered.shipment.trackingNumber
        #expect(registered.shipment.destinationAgencyCode == "000.00.00.H55")

        // Count and check: the identity paper is missing, then handed over.
        let guided = try await counter.recordCollection(collectionRequest(number, complete: false))
        #expect(!guided.complete)
        #expect(guided.shipment.state == .incompleteGuided)
        #expect(guided.missing.map(\.documentID) == ["GIAY_TO_TUY_THAN"])
        let collected = try await counter.recordCollection(collectionRequest(number))
        #expect(collected.complete)
        #expect(collected.shipment.state == .collected)
        #expect(collected.event.upuEventCode == "EMA")
        #expect(collected.event.collection.receiptID == "\(number)-BL3")
        #expect(collected.event.collection.feeCollectedVnd == 8000)
        #expect(collected.event.collection.postageVnd == 25000)
        #expect(collected.shipment.currentSealID == "S-000123")
        #expect(collected.shipment.unscannedDocumentIds == ["TO_KHAI", "GIAY_TO_TUY_THAN"])

        // Digitize both items in several chunks; the last one makes the shipment DIGITIZED.
        let form = pdfBytes(300_000, seed: 1)
        let first = try await upload(
          counter,
          number: number,
          documentID: "TO_KHAI",
          bytes: form,
          expectedSHA256: Array(SHA256.hash(data: form)),
          chunkSize: 70_000
        )
        #expect(first.created)
        #expect(first.shipment.state == .collected)
        #expect(
          first.scan.sha256 == SHA256.hash(data: form).map { String(format: "%02x", $0) }.joined()
        )
        let identity = pdfBytes(150_000, seed: 2)
        let second = try await upload(
          counter,
          number: number,
          documentID: "GIAY_TO_TUY_THAN",
          bytes: identity,
          chunkSize: 40_000
        )
        #expect(second.shipment.state == .digitized)
        #expect(second.shipment.events.last?.type == .digitized)
        #expect(second.shipment.unscannedDocumentIds.isEmpty)

        // The dossier leg; the handover to the agency is co-signed.
        let dispatched = try await counter.recordEvent(eventRequest(number, .dispatched))
        var handover = eventRequest(number, .handedToAgency)
        handover.occurredAt = nowTimestamp()
        handover.handover = try keys.handover(
          dispatched.shipment,
          kind: .handedToAgency,
          occurredAt: handover.occurredAt
        )
        let handed = try await counter.recordEvent(handover)
        #expect(handed.event.handover.receiver == HandoverKeys.agencyID)
        for type: Postalgateway_V1_EventType in [
          .appointmentReceived, .appointmentNotified, .resultReady,
        ] {
          _ = try await counter.recordEvent(eventRequest(number, type))
        }

        // The result leg: collected at the agency, one failed attempt, then delivered with proof.
        let collectedAt = nowTimestamp()
        let beforeResult = try await counter.getShipment(.with { $0.trackingNumber = number })
        let resultHandover = try keys.handover(
          beforeResult,
          kind: .resultCollected,
          occurredAt: collectedAt,
          resultSeal: "R-000777"
        )
        let result = try await counter.recordResultCollected(
          .with {
            $0.requestID = UUID().uuidString
            $0.trackingNumber = number
            $0.result = .with {
              $0.documents = ["Bản sao trích lục khai sinh"]
              $0.originalsToReturn = ["Tờ khai (bản chính)"]
              $0.papersToRecall = ["Giấy hẹn trả kết quả"]
              $0.feeToCollectVnd = 0
              $0.sealID = "R-000777"
            }
            $0.occurredAt = collectedAt
            $0.handover = resultHandover
          }
        )
        #expect(result.shipment.state == .resultCollected)
        #expect(result.shipment.currentSealID == "R-000777")
        _ = try await counter.recordEvent(eventRequest(number, .outForDelivery))
        let failed = try await counter.recordDeliveryAttempt(
          .with {
            $0.requestID = UUID().uuidString
            $0.trackingNumber = number
            $0.failed = .recipientAbsent
          }
        )
        #expect(failed.shipment.state == .attemptFailed)
        #expect(failed.event.upuEventCode == "EMH")

        let missingRecall = await rpcError {
          _ = try await counter.recordDeliveryAttempt(
            .with {
              $0.requestID = UUID().uuidString
              $0.trackingNumber = number
              $0.delivered = Self.proof()
            }
          )
        }
        #expect(missingRecall?.code == .invalidArgument)
        #expect(missingRecall?.message.hasPrefix("proof.papers_recalled") == true)

        let delivered = try await counter.recordDeliveryAttempt(
          .with {
            $0.requestID = UUID().uuidString
            $0.trackingNumber = number
            $0.delivered = Self.proof(papers: ["Giấy hẹn trả kết quả"])
          }
        )
        #expect(delivered.shipment.state == .delivered)
        #expect(delivered.shipment.normalizedStatus == .delivered)
        #expect(delivered.event.upuEventCode == "EMI")
        let proof = delivered.event.delivery.delivered
        #expect(proof.identityNumberMasked == "019******777")
        let bytes: [UInt8] = try delivered.serializedBytes()
        #expect(!String(decoding: bytes, as: UTF8.self).contains("019184000777"))
        // Nor does the database keep it: only the keyed hash and the masked form.
        for file in ["postal-gateway.sqlite", "postal-gateway.sqlite-wal"]
        where !TestBackend.usesPostgres {
          let path = (gateway.dataDirectory as NSString).appendingPathComponent(file)
          let stored = FileManager.default.contents(atPath: path) ?? Data()
          #expect(
            stored.range(of: Data("019184000777".utf8)) == nil,
            "\(file) holds the identity number"
          )
        }

        let tracked = try await gateway.withCitizenClient {
          try await $0.trackShipment(
            .with {
              $0.trackingNumber = number
              $0.verificationCode = registered.verificationCode
            }
          )
        }.shipment
        #expect(tracked.normalizedStatus == .delivered)
        #expect(tracked.timeline.last?.upuEventCode == "EMI")
        #expect(tracked.timeline.map(\.normalizedStatus).contains(.attemptFailed))
      }
    }
  }

  @Test("an in-person-only procedure is FAILED_PRECONDITION; an unknown one INVALID_ARGUMENT")
  func catalogRefusals() async throws {
    try await withTestGateway { gateway in
      try await gateway.withPartnerClient(self.pki.staff) { counter in
        var inPerson = samplePickup()
        inPerson.procedureCode = "2.000884"
        let refused = await rpcError { _ = try await counter.registerPickup(inPerson) }
        #expect(refused?.code == .failedPrecondition)
        var unknown = samplePickup()
        unknown.procedureCode = "9.999999"
        let invalid = await rpcError { _ = try await counter.registerPickup(unknown) }
        #expect(invalid?.code == .invalidArgument)
        #expect(invalid?.message.hasPrefix("procedure_code") == true)
        var elsewhere = samplePickup()
        elsewhere.destinationAgencyCode = "000.00.00.H54"
        let notCompetent = await rpcError { _ = try await counter.registerPickup(elsewhere) }
        #expect(notCompetent?.message.hasPrefix("destination_agency_code") == true)
        let listed = try await counter.listShipments(.with { _ in })
        #expect(listed.shipments.isEmpty)
      }
    }
  }

  @Test("guidance names exactly the missing published items and nothing else")
  func guidanceIsExact() async throws {
    try await withTestGateway { gateway in
      try await gateway.withPartnerClient(self.pki.staff) { counter in
        let number = try await counter.registerPickup(samplePickup()).shipment.trackingNumber
        var request = collectionRequest(number)
        request.items = [
          // A copy where the original is required does not count.
          .with {
            $0.documentID = "TO_KHAI"
            $0.form = .copy
            $0.pages = 1
          }
        ]
        let guided = try await counter.recordCollection(request)
        #expect(guided.missing.map(\.documentID) == ["TO_KHAI", "GIAY_TO_TUY_THAN"])
        #expect(guided.missing.map(\.form) == [.original, .copy])

        request.requestID = UUID().uuidString
        request.items.append(
          .with {
            $0.documentID = "SO_HO_KHAU"
            $0.form = .original
            $0.pages = 1
          }
        )
        let outside = await rpcError { _ = try await counter.recordCollection(request) }
        #expect(outside?.code == .invalidArgument)
        #expect(outside?.message.hasPrefix("items[1].document_id") == true)

        var noSeal = collectionRequest(number)
        noSeal.sealID = ""
        #expect(
          await rpcError { _ = try await counter.recordCollection(noSeal) }?.message.hasPrefix(
            "seal_id"
          ) == true
        )
        var wrongFee = collectionRequest(number)
        wrongFee.feeCollectedVnd = 5000
        #expect(
          await rpcError { _ = try await counter.recordCollection(wrongFee) }?.message.hasPrefix(
            "fee_collected_vnd"
          )
            == true
        )
        let shipment = try await counter.getShipment(.with { $0.trackingNumber = number })
        #expect(shipment.state == .incompleteGuided)
        #expect(shipment.version == 2)
      }
    }
  }

  @Test(
    "a refused upload stores nothing: hash mismatch, oversize, empty, wrong type, oversized chunk",
    arguments: ["mismatch", "oversize", "empty", "type", "chunk"]
  )
  func refusedUploadsStoreNothing(kind: String) async throws {
    let configure: (inout GatewayConfiguration) -> Void = { $0.maximumScanBytes = 200_000 }
    try await withTestGateway(configure: configure) { gateway in
      try await gateway.withPartnerClient(self.pki.staff) { counter in
        let number = try await counter.registerPickup(samplePickup()).shipment.trackingNumber
        _ = try await counter.recordCollection(collectionRequest(number))
        let stored = try await upload(
          counter,
          number: number,
          documentID: "TO_KHAI",
          bytes: pdfBytes(10_000)
        )
        #expect(stored.created)
        let before = listing(gateway.scansDirectory)
        let version = try await counter.getShipment(.with { $0.trackingNumber = number }).version

        let body = pdfBytes(50_000, seed: 9)
        let error = await rpcError {
          switch kind {
          case "mismatch":
            _ = try await upload(
              counter,
              number: number,
              documentID: "GIAY_TO_TUY_THAN",
              bytes: body,
              expectedSHA256: Array(SHA256.hash(data: pdfBytes(50_000, seed: 8)))
            )
          case "oversize":
            _ = try await upload(
              counter,
              number: number,
              documentID: "GIAY_TO_TUY_THAN",
              bytes: pdfBytes(250_000)
            )
          case "empty":
            _ = try await upload(counter, number: number, documentID: "GIAY_TO_TUY_THAN", bytes: [])
          case "type":
            _ = try await upload(
              counter,
              number: number,
              documentID: "GIAY_TO_TUY_THAN",
              bytes: body,
              contentType: .png
            )
          default:
            _ = try await upload(
              counter,
              number: number,
              documentID: "GIAY_TO_TUY_THAN",
              bytes: pdfBytes(1_100_000),
              chunkSize: 1_100_000
            )
          }
        }
        #expect(error?.code == .invalidArgument, "\(String(describing: error))")
        #expect(listing(gateway.scansDirectory) == before)
        #expect(
          try await counter.getShipment(.with { $0.trackingNumber = number }).version == version
        )
      }
    }
  }

  @Test("the same content is stored once; a download returns identical bytes and hash")
  func deduplicationAndDownload() async throws {
    try await withTestGateway { gateway in
      try await gateway.withPartnerClient(self.pki.staff) { counter in
        let number = try await counter.registerPickup(samplePickup()).shipment.trackingNumber
        _ = try await counter.recordCollection(collectionRequest(number))
        let body = pdfBytes(120_000, seed: 3)
        let first = try await upload(counter, number: number, documentID: "TO_KHAI", bytes: body)
        let again = try await upload(counter, number: number, documentID: "TO_KHAI", bytes: body)
        #expect(first.created && !again.created)
        #expect(again.scan == first.scan)
        let other = try await upload(
          counter,
          number: number,
          documentID: "GIAY_TO_TUY_THAN",
          bytes: body
        )
        #expect(other.created)
        #expect(other.scan.sha256 == first.scan.sha256)
        #expect(other.scan.documentCode != first.scan.documentCode)
        if !TestBackend.usesPostgres {
          let files = listing(gateway.scansDirectory).keys.filter { $0.hasPrefix("sha256/") }
          #expect(files.count == 1, "one file for one content: \(files)")
        }

        let parts = try await counter.downloadScan(
          .with { $0.documentCode = first.scan.documentCode }
        ) { response in
          try await response.messages.reduce(into: []) { $0.append($1) }
        }
        let header = try #require(parts.first)
        let downloaded = parts.dropFirst().flatMap { Array($0.chunk) }
        #expect(downloaded == body)
        #expect(
          header.scan.sha256
            == SHA256.hash(data: downloaded).map { String(format: "%02x", $0) }.joined()
        )
        #expect(parts.count > 2, "streamed in several chunks")
        let unknown = await rpcError {
          _ = try await counter.downloadScan(.with { $0.documentCode = "nope" }) { response in
            try await response.messages.reduce(0) { count, _ in count + 1 }
          }
        }
        #expect(unknown?.code == .notFound)
      }
    }
  }

}
