import Crypto
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import Proto
import SwiftProtobuf
import Synchronization
import Tracking

@testable import PostalGateway

/// A valid pickup request with a fresh request id.
func samplePickup(
  requestID: String = UUID().uuidString,
  citizenID: String = "019084000123",
  name: String = "Nguyễn Văn An"
) -> Postalgateway_V1_RegisterPickupRequest {
  .with {
    $0.requestID = requestID
    $0.serviceType = .dossierAndResult
    $0.applicant = .with {
      $0.fullName = name
      $0.citizenID = citizenID
      $0.phone = "0912 345 678"
      $0.address = .with {
        $0.provinceCode = "19"
        $0.communeCode = "05500"
        $0.detail = "12 Lương Ngọc Quyến"
      }
    }
    $0.procedureCode = "2.000635"
    $0.destinationAgencyCode = "000.00.00.H55"
    $0.pickup = .with { $0.counter = .with { $0.postOfficeCode = "250000" } }
  }
}

/// A RecordEvent request.
func eventRequest(
  _ number: String,
  _ type: Postalgateway_V1_EventType,
  requestID: String = UUID().uuidString
) -> Postalgateway_V1_RecordEventRequest {
  .with {
    $0.requestID = requestID
    $0.trackingNumber = number
    $0.type = type
  }
}

/// Calls `body` and returns the RPC error it throws (or records a failure).
func rpcError(_ body: () async throws -> Void) async -> RPCError? {
  do {
    try await body()
    return nil
  } catch let error as RPCError {
    return error
  } catch {
    return RPCError(code: .unknown, message: "unexpected \(error)")
  }
}

/// A RecordCollection request for the sample procedure 2.000635 (a form, original, and an
/// identity paper, copy; fee 8,000 VND), complete unless `complete` is false.
func collectionRequest(
  _ number: String,
  complete: Bool = true,
  requestID: String = UUID().uuidString
) -> Postalgateway_V1_RecordCollectionRequest {
  .with {
    $0.requestID = requestID
    $0.trackingNumber = number
    $0.items = [
      .with {
        $0.documentID = "TO_KHAI"
        $0.form = .original
        $0.pages = 2
      }
    ]
    if complete {
      $0.items.append(
        .with {
          $0.documentID = "GIAY_TO_TUY_THAN"
          $0.form = .copy
          $0.pages = 1
        }
      )
    }
    $0.sealID = "S-000123"
    $0.feeCollectedVnd = 8000
    $0.postageVnd = 25000
  }
}

/// Every file under a folder with its size, to show that a refused upload stored nothing.
func listing(_ directory: String) -> [String: Int] {
  var files: [String: Int] = [:]
  guard let enumerator = FileManager.default.enumerator(atPath: directory) else { return files }
  while let path = enumerator.nextObject() as? String {
    let full = (directory as NSString).appendingPathComponent(path)
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory),
      !isDirectory.boolValue
    {
      files[path] = (try? FileManager.default.attributesOfItem(atPath: full)[.size] as? Int) ?? -1
    }
  }
  return files
}

/// A PDF-looking body of `size` bytes.
func pdfBytes(_ size: Int, seed: UInt8 = 0) -> [UInt8] {
  let header = Array("%PDF-1.7\n".utf8)
  return header
    + (0 ..< max(0, size - header.count)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) }
}

/// Uploads a file in chunks of `chunkSize`.
func upload(
  _ counter: Postalgateway_V1_CounterService.Client<HTTP2ClientTransport.Posix>,
  number: String,
  documentID: String,
  bytes: [UInt8],
  contentType: Postalgateway_V1_ScanContentType = .pdf,
  expectedSHA256: [UInt8]? = nil,
  chunkSize: Int = 64 * 1024,
  requestID: String = UUID().uuidString
) async throws -> Postalgateway_V1_UploadScanResponse {
  try await counter.uploadScan(
    requestProducer: { writer in
      try await writer.write(
        .with {
          $0.header = .with {
            $0.requestID = requestID
            $0.trackingNumber = number
            $0.documentID = documentID
            $0.contentType = contentType
            if let expectedSHA256 { $0.expectedSha256 = Data(expectedSHA256) }
          }
        }
      )
      var offset = 0
      while offset < bytes.count {
        let end = min(offset + chunkSize, bytes.count)
        try await writer.write(.with { $0.chunk = Data(bytes[offset ..< end]) })
        offset = end
      }
    })
}

/// Device keys of the test staff member and the test agency, registered with the gateway.
struct HandoverKeys: Sendable {
  let staff = Curve25519.Signing.PrivateKey()
  let agency = Curve25519.Signing.PrivateKey()

  static let agencyID = "spiffe://\(TestPKI.trustDomain)/agency/000.00.00.H55"
  static let staffID = "spiffe://\(TestPKI.trustDomain)/staff/250000/clerk-01"

  /// Registers both keys (each with its own certificate).
  func register(on gateway: RunningGateway) async throws {
    for (credential, key) in [
      (TestPKI.shared.staff, self.staff), (TestPKI.shared.agency, self.agency),
    ] {
      _ = try await gateway.withClient(port: gateway.partnerPort, credential: credential) {
        client in
        try await Postalgateway_V1_SigningKeyService.Client(wrapping: client).registerSigningKey(
          .with { $0.publicKey = key.publicKey.rawRepresentation }
        )
      }
    }
  }

  static func keyID(_ key: Curve25519.Signing.PrivateKey) -> String {
    SHA256.hash(data: key.publicKey.rawRepresentation).prefix(8).map { String(format: "%02x", $0) }
      .joined()
  }

  /// A handover of `shipment` signed by both parties (or with `forge` replacing one signature).
  func handover(
    _ shipment: Postalgateway_V1_Shipment,
    kind: EventKind,
    occurredAt: Google_Protobuf_Timestamp,
    resultSeal: String? = nil,
    forgeReceiver: Bool = false
  ) throws -> Postalgateway_V1_Handover {
    let (giver, receiver) =
      kind == .handedToAgency ? (Self.staffID, Self.agencyID) : (Self.agencyID, Self.staffID)
    let (giverKey, receiverKey) =
      kind == .handedToAgency ? (self.staff, self.agency) : (self.agency, self.staff)
    let scans =
      kind == .handedToAgency
      ? shipment.events.filter { !$0.voided && !$0.scan.sha256.isEmpty }.map(\.scan.sha256) : []
    let seal =
      kind.isCollectionAtAgency
      ? resultSeal : (shipment.currentSealID.isEmpty ? nil : shipment.currentSealID)
    let statement = HandoverStatement.bytes(
      trackingNumber: try TrackingNumber(validating: shipment.trackingNumber),
      kind: kind,
      giver: giver,
      receiver: receiver,
      occurredAt: Timestamp(seconds: occurredAt.seconds, nanoseconds: occurredAt.nanos),
      sealID: seal,
      scans: scans
    )
    let forger = Curve25519.Signing.PrivateKey()
    let giverSignature = try giverKey.signature(for: statement)
    let receiverSignature = try (forgeReceiver ? forger : receiverKey).signature(for: statement)
    return .with {
      $0.counterparty = Self.agencyID
      $0.giverSignature = .with {
        $0.keyID = Self.keyID(giverKey)
        $0.signature = Data(giverSignature)
      }
      $0.receiverSignature = .with {
        $0.keyID = Self.keyID(receiverKey)
        $0.signature = Data(receiverSignature)
      }
    }
  }
}
