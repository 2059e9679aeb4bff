import Foundation
import GRPCCore
import Proto
import SwiftProtobuf
import Testing
import Tracking

@testable import PostalGateway

/// Staff restore a citizen's access: lift a lockout, reissue a lost code. Both are custody-logged
/// and carry no code; the old code stops working.
@Suite("Citizen access restored by staff")
struct AccessEndToEndTests {
  @Test(
    "staff lift a lockout and reissue a code: the old code is refused, the new one works, both are logged without the code"
  )
  func unlockAndReissue() async throws {
    try await withTestGateway { gateway in
      try await gateway.withPartnerClient(TestPKI.shared.staff) { counter in
        let registered = try await counter.registerPickup(samplePickup())
        let number = registered.shipment.trackingNumber
        let old = registered.verificationCode
        func track(_ code: String) async -> RPCError? {
          await rpcError { _ = try await gateway.track(number, code: code) }
        }
        // Wrong codes until the number is locked for this address, even with the right code.
        var wrong = 0
        while await track("AAAAA-AAAAA")?.code != .resourceExhausted, wrong < 20 { wrong += 1 }
        #expect(await track(old)?.code == .resourceExhausted)

        let unlocked = try await counter.unlockTracking(
          .with {
            $0.requestID = UUID().uuidString
            $0.trackingNumber = number
          }
        )
        #expect(unlocked.event.type == .trackingUnlocked)
        #expect(unlocked.shipment.state == registered.shipment.state, "access moves nothing")
        #expect(await track(old) == nil)

        let request = Postalgateway_V1_ReissueVerificationCodeRequest.with {
          $0.requestID = UUID().uuidString
          $0.trackingNumber = number
        }
        let reissued = try await counter.reissueVerificationCode(request)
        let new = reissued.verificationCode
        #expect(new != old)
        #expect(reissued.event.type == .verificationCodeReissued)
        #expect(reissued.event.custodyLeafIndex > 0)
        #expect(await track(old)?.code == .notFound, "the old code stops working")
        #expect(await track(new) == nil)
        #expect(try await counter.reissueVerificationCode(request).verificationCode == new)

        let staffView = try await counter.getShipment(.with { $0.trackingNumber = number })
        let json = try staffView.jsonString()
        #expect(!json.contains(new) && !json.contains(old), "no code in the record")
        let citizenView = try await gateway.track(number, code: new)
        #expect(
          citizenView.timeline.map(\.type) == [.registered],
          "access events are staff records"
        )
      }
    }
  }
}
