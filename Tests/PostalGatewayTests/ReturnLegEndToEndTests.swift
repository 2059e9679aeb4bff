import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Proto
import SwiftProtobuf
import Testing
import Tracking

@testable import PostalGateway

/// A refused dossier goes home: the return leg over mutual TLS, with custody entries for each
/// handover, its postal deadline and verdict, and the citizen reading the reasons.
@Suite("Refused dossiers go back to their applicant")
struct ReturnLegEndToEndTests {
  typealias CounterClient = Postalgateway_V1_CounterService.Client<HTTP2ClientTransport.Posix>

  let handoffs = HandoffEndToEndTests()
  let sla = SlaEndToEndTests()

  func returnCollection(
    _ number: String,
    _ counter: CounterClient,
    at time: Google_Protobuf_Timestamp,
    handover: Postalgateway_V1_Handover? = nil
  ) async throws -> Postalgateway_V1_RecordEventResponse {
    try await counter.recordResultCollected(
      .with {
        $0.requestID = UUID().uuidString
        $0.trackingNumber = number
        $0.result = .with {
          $0.documents = ["Phiếu từ chối tiếp nhận, giải quyết hồ sơ"]
          $0.originalsToReturn = ["Tờ khai", "Giấy tờ tùy thân"]
          $0.sealID = "RT-1"
        }
        $0.occurredAt = time
        if let handover { $0.handover = handover }
      }
    )
  }

  @Test(
    "a dossier refused at intake comes back: taken at the post office, delivered with proof, each step custody-logged with a return-leg verdict; the citizen reads the reasons in Vietnamese"
  )
  func refusedAtIntakeIsDelivered() async throws {
    let clock = TestClock("2026-03-02T09:00:00+07:00")
    try await self.sla.withSlaGateway(clock: clock) { gateway in
      let (number, _, code) = try await self.handoffs.digitizedDossierWithCode(on: gateway)
      clock.set("2026-03-02T10:00:00+07:00")
      let reason = "Hồ sơ không thuộc thẩm quyền giải quyết của cơ quan"
      _ = try await self.handoffs.asAgency(gateway) { agency in
        try await agency.acknowledgeHandoff(
          .with {
            $0.requestID = UUID().uuidString
            $0.handoffID = "\(number)-H1"
            $0.rejected = .with { $0.reason = reason }
          }
        )
      }
      let refused = try await gateway.track(number, code: code)
      #expect(refused.state == .rejectedByAgency)
      #expect(refused.refusalReason == reason)
      #expect(refused.language == "vi")
      #expect(refused.statusText == "Cơ quan từ chối hồ sơ")
      #expect(refused.notes.contains { $0.contains("Lý do: \(reason)") })
      #expect(refused.timeline.last?.text == "Cơ quan từ chối hồ sơ")

      try await gateway.withPartnerClient(TestPKI.shared.staff) { counter in
        // The papers never left the post office: no handover to sign.
        let collected = try await self.returnCollection(number, counter, at: clock.now().proto)
        #expect(collected.event.type == .returnCollected)
        #expect(collected.shipment.state == .returnCollected)
        clock.set("2026-03-03T09:00:00+07:00")
        _ = try await counter.recordEvent(eventRequest(number, .outForDelivery))
        let delivered = try await counter.recordDeliveryAttempt(
          .with {
            $0.requestID = UUID().uuidString
            $0.trackingNumber = number
            $0.delivered = LifecycleEndToEndTests.proof()
          }
        )
        #expect(delivered.shipment.state == .returnedToApplicant)
        let events = delivered.shipment.events.suffix(3)
        #expect(events.map(\.type) == [.returnCollected, .outForDelivery, .delivered])
        #expect(Set(events.map(\.custodyLeafIndex)).count == 3, "each step has its own leaf")
        let stored = try await counter.getShipment(.with { $0.trackingNumber = number })
        let leg = try #require(stored.hops.first { $0.hop == .returnLeg })
        // J = 2 March; the post office and the applicant are in Thái Nguyên: J + 2.
        #expect(leg.dueDate == "2026-03-04")
        #expect(leg.verdict == .early)
      }
      let home = try await gateway.withCitizenClient {
        try await $0.trackShipment(
          .with {
            $0.trackingNumber = number
            $0.verificationCode = code
            $0.language = "en"
          }
        ).shipment
      }
      #expect(home.normalizedStatus == .returned)
      #expect(home.statusText == "Returned to you")
      #expect(home.hopLines.last == "Refused dossier back to you: due 04/03/2026, early")
      let badLanguage = await rpcError {
        _ = try await gateway.withCitizenClient {
          try await $0.trackShipment(
            .with {
              $0.trackingNumber = number
              $0.verificationCode = code
              $0.language = "fr"
            }
          )
        }
      }
      #expect(badLanguage?.code == .invalidArgument)
      #expect(badLanguage?.message.contains("language") == true)
    }
  }

  @Test(
    "a paper dossier refused by the agency is taken back on a co-signed handover; after two invitations and the waiting period it goes back to the agency"
  )
  func refusedOnPaperGoesBackToTheAgencyWhenNobodyComes() async throws {
    let clock = TestClock("2026-11-09T09:00:00+07:00")
    try await withTestGateway(clock: clock) { gateway in
      let keys = HandoverKeys()
      try await keys.register(on: gateway)
      let registered = try await CustodyEndToEndTests.shipmentAtAgency(
        gateway,
        keys: keys,
        at: clock.now().proto
      )
      let number = registered.shipment.trackingNumber
      let refused = try await self.handoffs.asAgency(gateway) { agency in
        try await agency.refuseDossier(
          .with {
            $0.requestID = UUID().uuidString
            $0.trackingNumber = number
            $0.reason = "Thiếu văn bản ủy quyền"
          }
        )
      }
      #expect(refused.state == .rejectedByAgency)
      try await gateway.withPartnerClient(TestPKI.shared.staff) { counter in
        clock.set("2026-11-09T14:00:00+07:00")
        let at = clock.now().proto
        // The agency holds the papers: the return is a co-signed handover.
        let unsigned = await rpcError {
          _ = try await self.returnCollection(number, counter, at: at)
        }
        #expect(unsigned?.code == .invalidArgument)
        #expect(unsigned?.message.contains("handover") == true)
        let shipment = try await counter.getShipment(.with { $0.trackingNumber = number })
        let collected = try await self.returnCollection(
          number,
          counter,
          at: at,
          handover: try keys.handover(
            shipment,
            kind: .returnCollected,
            occurredAt: at,
            resultSeal: "RT-1"
          )
        )
        #expect(collected.event.handover.giver == HandoverKeys.agencyID)
        #expect(collected.event.handover.receiver == HandoverKeys.staffID)
        _ = try await counter.recordEvent(eventRequest(number, .outForDelivery))
        func invite(_ iso: String) async throws {
          clock.set(iso)
          _ = try await counter.recordDeliveryAttempt(
            .with {
              $0.requestID = UUID().uuidString
              $0.trackingNumber = number
              $0.failed = .recipientAbsent
            }
          )
        }
        try await invite("2026-11-10T09:00:00+07:00")  // Tuesday
        try await invite("2026-11-12T09:00:00+07:00")  // Thursday: two working days later
        func giveBack() async -> RPCError? {
          await rpcError {
            _ = try await counter.recordEvent(eventRequest(number, .returnedToAgency))
          }
        }
        clock.set("2026-11-16T09:00:00+07:00")  // Monday: the citizen had Friday and Monday
        #expect(await giveBack()?.code == .failedPrecondition)
        clock.set("2026-11-17T09:00:00+07:00")
        #expect(await giveBack() == nil)
        let back = try await counter.getShipment(.with { $0.trackingNumber = number })
        #expect(back.state == .returnedToAgency)
        let leg = try #require(back.hops.first { $0.hop == .returnLeg })
        // J = 9 November, ended by the first invitation on the 10th: J + 2 is the 11th.
        #expect(leg.dueDate == "2026-11-11")
        #expect(leg.verdict == .early)
      }
    }
  }

  @Test("the same agency dossier code cannot be given to two shipments")
  func dossierCodesAreUnique() async throws {
    let clock = TestClock("2026-03-02T09:00:00+07:00")
    try await self.sla.withSlaGateway(clock: clock) { gateway in
      let (first, _) = try await self.sla.filedDossier(
        on: gateway,
        clock: clock,
        collectedAt: "2026-03-02T09:00:00+07:00",
        filedAt: "2026-03-02T10:00:00+07:00"
      )
      let (second, _, _) = try await self.handoffs.digitizedDossierWithCode(on: gateway)
      let reused = await rpcError {
        try await self.sla.acknowledge(second, on: gateway, filedAt: "2026-03-02T10:00:00+07:00")
      }
      #expect(reused?.code == .alreadyExists)
      #expect(reused?.message.contains("dossier_code") == true)
      let untouched = try await self.handoffs.shipment(second, on: gateway)
      #expect(untouched.state == .digitized, "nothing was recorded")
      #expect(try await self.handoffs.shipment(first, on: gateway).state == .handedToAgency)
    }
  }
}
