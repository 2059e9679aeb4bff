import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Proto
import SwiftProtobuf
import Testing
import Tracking

@testable import PostalGateway

/// Citizens rate the service once a shipment is delivered, with their code, once; a low mark,
/// extra costs or an explicit complaint opens a case the oversight office lists.
@Suite("Citizen ratings and complaints end to end")
struct RatingEndToEndTests {
  typealias CounterClient = Postalgateway_V1_CounterService.Client<HTTP2ClientTransport.Posix>
  typealias OversightClient = Postalgateway_V1_OversightService.Client<HTTP2ClientTransport.Posix>

  /// Registers a shipment and takes it through to DELIVERED; returns its number and code.
  static func delivered(
    _ counter: CounterClient,
    keys: HandoverKeys
  ) async throws -> (number: String, code: String) {
    let registered = try await counter.registerPickup(samplePickup())
    let number = registered.shipment.trackingNumber
    _ = try await counter.recordCollection(collectionRequest(number))
    for (index, document) in ["TO_KHAI", "GIAY_TO_TUY_THAN"].enumerated() {
      _ = try await upload(
        counter,
        number: number,
        documentID: document,
        bytes: pdfBytes(20_000, seed: UInt8(index))
      )
    }
    let dispatched = try await counter.recordEvent(eventRequest(number, .dispatched))
    var handover = eventRequest(number, .handedToAgency)
    handover.occurredAt = nowTimestamp()
    handover.handover = try keys.handover(
      dispatched.shipment,
      kind: .handedToAgency,
      occurredAt: handover.occurredAt
    )
    _ = try await counter.recordEvent(handover)
    for type: Postalgateway_V1_EventType in [
      .appointmentReceived, .appointmentNotified, .resultReady,
    ] {
      _ = try await counter.recordEvent(eventRequest(number, type))
    }
    let collectedAt = nowTimestamp()
    let ready = try await counter.getShipment(.with { $0.trackingNumber = number })
    _ = try await counter.recordResultCollected(
      .with {
        $0.requestID = UUID().uuidString
        $0.trackingNumber = number
        $0.result = .with {
          $0.documents = ["Bản sao trích lục"]
          $0.papersToRecall = ["Giấy hẹn trả kết quả"]
          $0.sealID = "R-1"
        }
        $0.occurredAt = collectedAt
        $0.handover = try keys.handover(
          ready,
          kind: .resultCollected,
          occurredAt: collectedAt,
          resultSeal: "R-1"
        )
      }
    )
    _ = try await counter.recordEvent(eventRequest(number, .outForDelivery))
    let delivered = try await counter.recordDeliveryAttempt(
      .with {
        $0.requestID = UUID().uuidString
        $0.trackingNumber = number
        $0.delivered = LifecycleEndToEndTests.proof(papers: ["Giấy hẹn trả kết quả"])
      }
    )
    #expect(delivered.shipment.state == .delivered)
    return (number, registered.verificationCode)
  }

  static func rating(
    _ number: String,
    _ code: String,
    overall: Int32,
    _ configure: (inout Postalgateway_V1_RateServiceRequest) -> Void = { _ in }
  ) -> Postalgateway_V1_RateServiceRequest {
    var request = Postalgateway_V1_RateServiceRequest.with {
      $0.trackingNumber = number
      $0.verificationCode = code
      $0.onTime = true
      $0.staffAttitude = 5
      $0.trips = 1
      $0.overall = overall
    }
    configure(&request)
    return request
  }

  @Test(
    "a rating is taken once per delivered shipment, only with its code, refused before delivery, bad fields named; low marks open complaints"
  )
  func ratings() async throws {
    try await withTestGateway { gateway in
      let keys = HandoverKeys()
      try await keys.register(on: gateway)
      let (early, good, bad) = try await gateway.withPartnerClient(TestPKI.shared.staff) {
        counter in
        let early = try await counter.registerPickup(samplePickup())
        return (
          (early.shipment.trackingNumber, early.verificationCode),
          try await Self.delivered(counter, keys: keys),
          try await Self.delivered(counter, keys: keys)
        )
      }
      try await gateway.withCitizenClient { citizen in
        let before = await rpcError {
          _ = try await citizen.rateService(Self.rating(early.0, early.1, overall: 5))
        }
        #expect(before?.code == .failedPrecondition)

        let wrongCode = await rpcError {
          _ = try await citizen.rateService(Self.rating(good.number, early.1, overall: 5))
        }
        #expect(wrongCode?.code == .notFound)

        for (field, configure) in [
          ("overall", { (r: inout Postalgateway_V1_RateServiceRequest) in r.overall = 0 }),
          ("staff_attitude", { $0.staffAttitude = 6 }),
          ("trips", { $0.trips = 21 }),
          ("comment", { $0.comment = String(repeating: "x", count: 1001) }),
        ] as [(String, (inout Postalgateway_V1_RateServiceRequest) -> Void)] {
          var request = Self.rating(good.number, good.code, overall: 5)
          configure(&request)
          let refused = await rpcError { _ = try await citizen.rateService(request) }
          #expect(refused?.code == .invalidArgument)
          #expect(refused?.message.hasPrefix(field) == true, "\(refused?.message ?? "")")
        }

        let rated = try await citizen.rateService(Self.rating(good.number, good.code, overall: 5))
        #expect(!rated.complaintOpened)
        let again = await rpcError {
          _ = try await citizen.rateService(Self.rating(good.number, good.code, overall: 4))
        }
        #expect(again?.code == .alreadyExists)

        let unhappy = try await citizen.rateService(
          Self.rating(bad.number, bad.code, overall: 4) {
            $0.extraCostsAsked = true
            $0.comment = "Bị đòi thêm 50.000 đồng"
          }
        )
        #expect(unhappy.complaintOpened)
      }
      let complaints = try await gateway.withClient(
        port: gateway.partnerPort,
        credential: HandoffPKI.shared.oversight
      ) {
        try await OversightClient(wrapping: $0).listComplaints(.init()).complaints
      }
      #expect(complaints.map(\.trackingNumber) == [bad.number])
      #expect(complaints.first?.extraCostsAsked == true)
      #expect(complaints.first?.comment == "Bị đòi thêm 50.000 đồng")
      #expect(complaints.first?.requested == false)
    }
  }
}
