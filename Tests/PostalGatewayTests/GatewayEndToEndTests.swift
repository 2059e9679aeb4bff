import Foundation
import GRPCCore
import GRPCProtobuf
import Proto
import SwiftProtobuf
import Testing
import Tracking

@testable import PostalGateway

/// The first slice end to end: real listeners on loopback, real TLS with certificates made at
/// run time, a real SQLite file.
@Suite("Gateway end to end over TLS")
struct GatewayEndToEndTests {
  let pki = TestPKI.shared

  @Test("staff registers, records COLLECTED then IN_TRANSIT; the citizen tracks a masked timeline")
  func pickupToTracking() async throws {
    try await withTestGateway { gateway in
      let registered = try await gateway.withPartnerClient(self.pki.staff) { counter in
        try await counter.registerPickup(samplePickup())
      }
      let number = registered.shipment.trackingNumber
      #expect((try? TrackingNumber(validating: number)) != nil, "a valid S10 number")
      #expect(number.hasPrefix("EA") && number.hasSuffix("VN"))
      #expect(registered.shipment.state == .requested)
      #expect((try? VerificationCode(parsing: registered.verificationCode)) != nil)

      let inTransit = try await gateway.withPartnerClient(self.pki.staff) { counter in
        _ = try await counter.recordCollection(collectionRequest(number))
        return try await counter.recordEvent(eventRequest(number, .dispatched))
      }
      #expect(inTransit.shipment.state == .inTransit)
      #expect(inTransit.event.fromState == .collected)
      #expect(inTransit.event.actor == "spiffe://\(TestPKI.trustDomain)/staff/250000/clerk-01")

      let tracked = try await gateway.withCitizenClient { tracking in
        try await tracking.trackShipment(
          .with {
            $0.trackingNumber = number
            $0.verificationCode = registered.verificationCode.lowercased()
          }
        )
      }.shipment
      #expect(tracked.state == .inTransit)
      #expect(tracked.applicantNameMasked == "N*** V** A")
      #expect(tracked.phoneMasked == "091****678")
      #expect(tracked.timeline.map(\.type) == [.registered, .collected, .dispatched])
      #expect(tracked.timeline.map(\.location) == ["250000", "250000", "250000"])
      let bytes: [UInt8] = try tracked.serializedBytes()
      let text = String(decoding: bytes, as: UTF8.self)
      for secret in [
        "019084000123", "Lương Ngọc Quyến", "Nguyễn", "0912345678", "345678", "clerk-01",
      ] {
        #expect(!text.contains(secret), "the citizen's view leaks \(secret)")
      }
    }
  }

  @Test("a wrong code and an unknown number get the same NOT_FOUND")
  func wrongCodeLooksLikeUnknownNumber() async throws {
    try await withTestGateway { gateway in
      let registered = try await gateway.withPartnerClient(self.pki.staff) {
        try await $0.registerPickup(samplePickup())
      }
      let code = registered.verificationCode.first == "2" ? "33333-33333" : "22222-22222"
      let wrongCode = await rpcError {
        _ = try await gateway.withCitizenClient {
          try await $0.trackShipment(
            .with {
              $0.trackingNumber = registered.shipment.trackingNumber
              $0.verificationCode = code
            }
          )
        }
      }
      let unknown = await rpcError {
        _ = try await gateway.withCitizenClient {
          try await $0.trackShipment(
            .with {
              $0.trackingNumber = "EA000000080VN"
              $0.verificationCode = registered.verificationCode
            }
          )
        }
      }
      #expect(wrongCode?.code == .notFound)
      #expect(unknown?.code == .notFound)
      #expect(wrongCode?.message == unknown?.message)
    }
  }

  @Test("repeated failures for a number are throttled, even with the right code afterwards")
  func trackingIsThrottled() async throws {
    let configure: (inout GatewayConfiguration) -> Void = { $0.throttle.maximumFailures = 3 }
    try await withTestGateway(configure: configure) { gateway in
      let registered = try await gateway.withPartnerClient(self.pki.staff) {
        try await $0.registerPickup(samplePickup())
      }
      let number = registered.shipment.trackingNumber
      let wrong = registered.verificationCode.first == "2" ? "33333-33333" : "22222-22222"
      try await gateway.withCitizenClient { tracking in
        for _ in 0 ..< 3 {
          let error = await rpcError {
            _ = try await tracking.trackShipment(
              .with {
                $0.trackingNumber = number
                $0.verificationCode = wrong
              }
            )
          }
          #expect(error?.code == .notFound)
        }
        let throttled = await rpcError {
          _ = try await tracking.trackShipment(
            .with {
              $0.trackingNumber = number
              $0.verificationCode = registered.verificationCode
            }
          )
        }
        #expect(throttled?.code == .resourceExhausted)
        let retry = try throttled?.unpackGoogleRPCStatus()?.details.compactMap(\.retryInfo).first
        #expect((retry?.delay ?? .zero) > .zero)

        // Unknown numbers are throttled the same way, so throttling reveals nothing.
        for _ in 0 ..< 3 {
          _ = await rpcError {
            _ = try await tracking.trackShipment(
              .with {
                $0.trackingNumber = "EA000000080VN"
                $0.verificationCode = wrong
              }
            )
          }
        }
        let unknown = await rpcError {
          _ = try await tracking.trackShipment(
            .with {
              $0.trackingNumber = "EA000000080VN"
              $0.verificationCode = wrong
            }
          )
        }
        #expect(unknown?.code == .resourceExhausted)
      }
    }
  }

  @Test("an invalid citizen id is INVALID_ARGUMENT naming the field, and nothing is stored")
  func invalidCitizenIDStoresNothing() async throws {
    try await withTestGateway { gateway in
      try await gateway.withPartnerClient(self.pki.staff) { counter in
        let error = await rpcError {
          _ = try await counter.registerPickup(samplePickup(citizenID: "099084000123"))
        }
        #expect(error?.code == .invalidArgument)
        let fields = try error?.unpackGoogleRPCStatus()?.details.compactMap(\.badRequest)
          .flatMap(\.violations).map(\.field)
        #expect(fields == ["applicant.citizen_id"])
        #expect(error?.message.contains("applicant.citizen_id") == true)
        let listed = try await counter.listShipments(.with { _ in })
        #expect(listed.shipments.isEmpty)
      }
    }
  }

  @Test("every malformed field is named at once")
  func everyMalformedFieldIsNamed() async throws {
    try await withTestGateway { gateway in
      try await gateway.withPartnerClient(self.pki.staff) { counter in
        var request = samplePickup()
        request.requestID = ""
        request.applicant.phone = "0212345678"
        request.procedureCode = "1.00123"
        request.destinationAgencyCode = "000.00.00.55"
        request.pickup = .with { $0.counter = .with { $0.postOfficeCode = "25000" } }
        let error = await rpcError { _ = try await counter.registerPickup(request) }
        let fields = try error?.unpackGoogleRPCStatus()?.details.compactMap(\.badRequest)
          .flatMap(\.violations).map(\.field)
        #expect(
          Set(fields ?? []) == [
            "request_id", "applicant.phone", "procedure_code", "destination_agency_code",
            "pickup.counter.post_office_code",
          ]
        )
      }
    }
  }

  @Test(
    "the same request_id and body returns the same shipment and code; another body is ALREADY_EXISTS"
  )
  func requestIDsAreIdempotent() async throws {
    try await withTestGateway { gateway in
      try await gateway.withPartnerClient(self.pki.staff) { counter in
        let request = samplePickup(requestID: "retry-1")
        let first = try await counter.registerPickup(request)
        _ = try await counter.recordCollection(collectionRequest(first.shipment.trackingNumber))
        let second = try await counter.registerPickup(request)
        #expect(second == first, "the original response, not the shipment as it is now")

        let other = await rpcError {
          _ = try await counter.registerPickup(
            samplePickup(requestID: "retry-1", name: "Trần Thị Bình")
          )
        }
        #expect(other?.code == .alreadyExists)
        let listed = try await counter.listShipments(.with { _ in })
        #expect(listed.shipments.count == 1)

        let event = eventRequest(first.shipment.trackingNumber, .dispatched, requestID: "event-1")
        let recorded = try await counter.recordEvent(event)
        let replayed = try await counter.recordEvent(event)
        #expect(replayed == recorded)
        let shipment = try await counter.getShipment(
          .with { $0.trackingNumber = first.shipment.trackingNumber }
        )
        #expect(shipment.version == 3)
      }
    }
  }

  @Test("request ids belong to their caller: another staff member's same id is a new request")
  func requestIDsAreBoundToTheCaller() async throws {
    try await withTestGateway { gateway in
      let request = samplePickup(requestID: "shared-id")
      let mine = try await gateway.withPartnerClient(self.pki.staff) {
        try await $0.registerPickup(request)
      }
      let theirs = try await gateway.withPartnerClient(self.pki.otherStaff) {
        try await $0.registerPickup(request)
      }
      #expect(theirs.shipment.trackingNumber != mine.shipment.trackingNumber)
      // Each caller's retry still replays its own registration.
      let again = try await gateway.withPartnerClient(self.pki.otherStaff) {
        try await $0.registerPickup(request)
      }
      #expect(again == theirs)
    }
  }

  @Test("an illegal transition is FAILED_PRECONDITION and changes nothing")
  func illegalTransitionChangesNothing() async throws {
    try await withTestGateway { gateway in
      try await gateway.withPartnerClient(self.pki.staff) { counter in
        let number = try await counter.registerPickup(samplePickup()).shipment.trackingNumber
        let error = await rpcError {
          _ = try await counter.recordEvent(eventRequest(number, .dispatched))
        }
        #expect(error?.code == .failedPrecondition)
        let registration = await rpcError {
          _ = try await counter.recordEvent(eventRequest(number, .registered))
        }
        #expect(registration?.code == .invalidArgument)
        let shipment = try await counter.getShipment(.with { $0.trackingNumber = number })
        #expect(shipment.state == .requested)
        #expect(shipment.version == 1)
        #expect(shipment.events.count == 1)
      }
    }
  }

  @Test("an event time more than five minutes ahead is INVALID_ARGUMENT")
  func futureEventTimeIsRefused() async throws {
    try await withTestGateway { gateway in
      try await gateway.withPartnerClient(self.pki.staff) { counter in
        let number = try await counter.registerPickup(samplePickup()).shipment.trackingNumber
        var request = eventRequest(number, .cancelled)
        request.occurredAt = Google_Protobuf_Timestamp(date: Date().addingTimeInterval(3600))
        let error = await rpcError { _ = try await counter.recordEvent(request) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.hasPrefix("occurred_at") == true)
      }
    }
  }

  @Test("an unknown tracking number is NOT_FOUND for staff")
  func unknownShipmentIsNotFound() async throws {
    try await withTestGateway { gateway in
      try await gateway.withPartnerClient(self.pki.staff) { counter in
        let get = await rpcError {
          _ = try await counter.getShipment(.with { $0.trackingNumber = "EA000000080VN" })
        }
        #expect(get?.code == .notFound)
        let record = await rpcError {
          _ = try await counter.recordCollection(collectionRequest("EA000000080VN"))
        }
        #expect(record?.code == .notFound)
        let malformed = await rpcError {
          _ = try await counter.getShipment(.with { $0.trackingNumber = "EA000000081VN" })
        }
        #expect(malformed?.code == .invalidArgument)
      }
    }
  }

  @Test("an agency certificate gets PERMISSION_DENIED on RegisterPickup")
  func agencyCannotRegister() async throws {
    try await withTestGateway { gateway in
      let error = await rpcError {
        _ = try await gateway.withPartnerClient(self.pki.agency) {
          try await $0.registerPickup(samplePickup())
        }
      }
      #expect(error?.code == .permissionDenied)
      let listed = try await gateway.withPartnerClient(self.pki.staff) {
        try await $0.listShipments(.with { _ in })
      }
      #expect(listed.shipments.isEmpty)
    }
  }

  @Test("a CA-signed certificate without a PostalGateway identity is UNAUTHENTICATED")
  func certificateWithoutIdentityIsRefused() async throws {
    try await withTestGateway { gateway in
      let error = await rpcError {
        _ = try await gateway.withPartnerClient(self.pki.noIdentity) {
          try await $0.listShipments(.with { _ in })
        }
      }
      #expect(error?.code == .unauthenticated)
    }
  }

  @Test(
    "no client certificate, or one from another CA, gets no service on the partner port",
    arguments: [false, true]
  )
  func partnerPortNeedsATrustedCertificate(foreign: Bool) async throws {
    try await withTestGateway { gateway in
      let credential = foreign ? self.pki.foreignStaff : nil
      let error = await rpcError {
        _ = try await gateway.withPartnerClient(credential) { counter in
          // A bound, not a wait: the handshake fails at once (10 s leaves room for a busy
          // machine running every suite at once).
          var options = CallOptions.defaults
          options.timeout = .seconds(10)
          return try await counter.listShipments(.with { _ in }, options: options)
        }
      }
      // The TLS handshake itself fails: the server asks for a certificate it can verify.
      #expect(error?.code == .unavailable)
      let alert = foreign ? "TLSV1_ALERT_UNKNOWN_CA" : "TLSV1_ALERT_CERTIFICATE_REQUIRED"
      #expect(String(describing: error).contains(alert), "\(String(describing: error))")
    }
  }

  @Test("the public port serves tracking and health only")
  func publicPortServesOnlyTracking() async throws {
    try await withTestGateway { gateway in
      let error = await rpcError {
        _ = try await gateway.withClient(port: gateway.publicPort, credential: nil) { client in
          try await Postalgateway_V1_CounterService.Client(wrapping: client).listShipments(
            .with { _ in }
          )
        }
      }
      #expect(error?.code == .unimplemented)
    }
  }

  @Test("both listeners answer grpc.health.v1 for themselves and their services")
  func healthOnBothListeners() async throws {
    try await withTestGateway { gateway in
      for (port, credential, service) in [
        (gateway.partnerPort, Optional(self.pki.staff), "postalgateway.v1.CounterService"),
        (gateway.publicPort, nil, "postalgateway.v1.TrackingService"),
      ] {
        try await gateway.withClient(port: port, credential: credential) { client in
          let health = Grpc_Health_V1_Health.Client(wrapping: client)
          let listener = try await health.check(.with { $0.service = "" })
          let named = try await health.check(.with { $0.service = service })
          #expect(listener.status == .serving)
          #expect(named.status == .serving)
          let unknown = await rpcError { _ = try await health.check(.with { $0.service = "nope" }) }
          #expect(unknown?.code == .notFound)
        }
      }
    }
  }

}
