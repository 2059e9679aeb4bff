import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Proto
import SwiftProtobuf
import TestProcesses
import Testing
import Tracking

@testable import PostalGateway

/// Regression tests for what was found by trying the service as an attacker and as a clumsy
/// client would (one per finding), over real TLS where the client's own limits matter.
@Suite("Hostile input")
struct HostileInputTests {
  let pki = TestPKI.shared

  /// One SyncEvents message of `device` with sequence `sequence` cancelling `number`.
  static func syncMessage(
    _ device: String,
    _ sequence: Int64,
    _ number: String
  )
    -> Postalgateway_V1_SyncEventsRequest
  {
    .with {
      $0.deviceID = device
      $0.deviceSequence = sequence
      $0.deviceTime = nowTimestamp()
      $0.recordEvent = eventRequest(number, .cancelled)
    }
  }

  static func sync(
    _ counter: Postalgateway_V1_CounterService.Client<HTTP2ClientTransport.Posix>,
    _ messages: [Postalgateway_V1_SyncEventsRequest]
  ) async throws -> [Postalgateway_V1_SyncEventsResponse] {
    try await counter.syncEvents(
      requestProducer: { writer in try await writer.write(contentsOf: messages) },
      onResponse: { response in
        var all: [Postalgateway_V1_SyncEventsResponse] = []
        for try await message in response.messages { all.append(message) }
        return all
      }
    )
  }

  @Test(
    "a device sequence of 2^62 is refused in bounded work, kept nowhere, and the device goes on",
    .sqliteOnly
  )
  func poisonSyncMessage() async throws {
    try await withTestGateway { gateway in
      try await gateway.withPartnerClient(self.pki.staff) { counter in
        let number = try await counter.registerPickup(samplePickup()).shipment.trackingNumber
        let poison = try await Self.sync(counter, [Self.syncMessage("h1", 1 << 62, number)])
        #expect(poison.map(\.status) == [.rejected])
        #expect(poison.first?.code == Int32(RPCError.Code.invalidArgument.rawValue))
        #expect(poison.first?.message.contains("ahead of the last processed") == true)
        #expect(poison.first?.missingSequences.isEmpty == true)
        // The next message of the same device is processed normally.
        let next = try await Self.sync(counter, [Self.syncMessage("h1", 1, number)])
        #expect(next.map(\.status) == [.accepted])
        #expect(next.first?.processedThrough == 1)

        // A poison message kept by an earlier version (held, unprocessed) no longer makes a
        // later message walk a gap of 2^62 numbers.
        let database = (gateway.dataDirectory as NSString).appendingPathComponent(
          "postal-gateway.sqlite"
        )
        let caller = "spiffe://\(TestPKI.trustDomain)/staff/250000/clerk-01"
        _ = try SQLiteTool.run(
          database,
          """
          INSERT INTO device_event (caller, device_id, sequence, fingerprint, payload)
          VALUES ('\(caller)', 'h2', \(1 << 62), x'00', x'00');
          """
        )
        let held = try await Self.sync(counter, [Self.syncMessage("h2", 2, number)])
        #expect(held.map(\.status) == [.held])
        #expect(held.first?.missingSequences == [1])
        #expect(held.first?.missingCount == 1)
      }
      let stored = try SQLiteTool.run(
        (gateway.dataDirectory as NSString).appendingPathComponent("postal-gateway.sqlite"),
        "SELECT COUNT(*) FROM device_event WHERE device_id = 'h1'"
      )
      #expect(
        stored.trimmingCharacters(in: .whitespacesAndNewlines) == "1",
        "the poison was not kept"
      )
    }
  }

  @Test("an error with many bad fields stays small enough for a default client's 8 KiB limit")
  func errorsStaySmall() async throws {
    try await withTestGateway { gateway in
      try await gateway.withPartnerClient(self.pki.staff) { counter in
        let number = try await counter.registerPickup(samplePickup()).shipment.trackingNumber
        var request = collectionRequest(number)
        request.items = (0 ..< 40).map { _ in
          .with {
            $0.documentID = String(repeating: "x", count: 20_000)
            $0.pages = 0
          }
        }
        request.note = String(repeating: "ghi chú ", count: 100_000)
        let error = await rpcError { _ = try await counter.recordCollection(request) }
        #expect(error?.code == .invalidArgument, "not RESOURCE_EXHAUSTED from the client's limit")
        let message = error?.message ?? ""
        #expect(message.utf8.count <= TrackingError.maximumMessageBytes)
        #expect(message.contains("more (see the details)"))
        let metadataBytes = (error?.metadata ?? [:]).reduce(0) { total, entry in
          switch entry.value {
          case .string(let text): total + entry.key.utf8.count + text.utf8.count
          case .binary(let bytes): total + entry.key.utf8.count + bytes.count * 4 / 3
          }
        }
        #expect(metadataBytes + message.utf8.count < 4096, "\(metadataBytes) bytes of details")
        #expect(!message.contains(String(repeating: "x", count: 100)), "values are not echoed")
        let shipment = try await counter.getShipment(.with { $0.trackingNumber = number })
        #expect(shipment.version == 1, "nothing was stored")
      }
    }
  }

  @Test("a request over the configured size is RESOURCE_EXHAUSTED naming the limit")
  func oversizedRequest() async throws {
    try await withTestGateway {
      $0.limits.maximumRequestBytes = 64 * 1024
    } _: { gateway in
      try await gateway.withPartnerClient(self.pki.staff) { counter in
        var request = samplePickup()
        request.applicant.address.detail = String(repeating: "a", count: 100 * 1024)
        let error = await rpcError { _ = try await counter.registerPickup(request) }
        #expect(error?.code == .resourceExhausted)
        #expect(error?.message.contains("the limit is 65536") == true)
        let page = try await counter.listShipments(.with { _ in })
        #expect(page.shipments.isEmpty)
      }
    }
  }

  @Test("citizens see the history as corrected: no voided events, no corrections")
  func voidedEventsStayPrivate() async throws {
    try await withTestGateway { gateway in
      let (number, code) = try await gateway.withPartnerClient(self.pki.staff) { counter in
        let registered = try await counter.registerPickup(samplePickup())
        let number = registered.shipment.trackingNumber
        _ = try await counter.recordCollection(collectionRequest(number))
        let dispatched = try await counter.recordEvent(eventRequest(number, .dispatched))
        _ = try await counter.correctEvent(
          .with {
            $0.requestID = UUID().uuidString
            $0.trackingNumber = number
            $0.sequence = dispatched.event.sequence
            $0.reason = "dispatched by mistake"
          }
        )
        return (number, registered.verificationCode)
      }
      let tracked = try await gateway.track(number, code: code)
      #expect(tracked.timeline.map(\.type) == [.registered, .collected])
      #expect(tracked.timeline.last?.state == .collected)
      #expect(tracked.state == .collected)
    }
  }

  @Test("wrong codes from one address lock out that address only, with a wait in whole minutes")
  func lockoutsArePerAddress() async throws {
    try await withTestGateway {
      // Dual stack: 127.0.0.1 (seen as ::ffff:127.0.0.1) is the attacker, ::1 the citizen.
      // "::" is every address, not loopback: the development certificates need --development.
      $0.publicListener = .init(host: "::", port: 0)
      $0.development = true
    } _: { gateway in
      let registered = try await gateway.withPartnerClient(self.pki.staff) {
        try await $0.registerPickup(samplePickup())
      }
      let number = registered.shipment.trackingNumber
      func track(from host: String, code: String) async -> RPCError? {
        await rpcError {
          _ = try await gateway.withClient(port: gateway.publicPort, credential: nil, host: host) {
            try await Postalgateway_V1_TrackingService.Client(wrapping: $0).trackShipment(
              .with {
                $0.trackingNumber = number
                $0.verificationCode = code
              }
            )
          }
        }
      }
      for _ in 0 ..< 5 {
        #expect(await track(from: "127.0.0.1", code: "2222222222")?.code == .notFound)
      }
      let locked = await track(from: "127.0.0.1", code: registered.verificationCode)
      #expect(locked?.code == .resourceExhausted, "the right code is refused too: no oracle")
      #expect(locked?.message.hasSuffix("15 minutes") == true, "\(locked?.message ?? "")")
      #expect(await track(from: "::1", code: registered.verificationCode) == nil)
      #expect(await track(from: "127.0.0.1", code: "2222222222")?.code == .resourceExhausted)
    }
  }

  @Test("write responses carry each event's custody leaf, as GetShipment does")
  func writeResponsesCarryTheirLeaf() async throws {
    try await withTestGateway { gateway in
      try await gateway.withPartnerClient(self.pki.staff) { counter in
        _ = try await counter.registerPickup(samplePickup())
        let registered = try await counter.registerPickup(samplePickup())
        let number = registered.shipment.trackingNumber
        let recorded = try await counter.recordEvent(eventRequest(number, .cancelled))
        let stored = try await counter.getShipment(.with { $0.trackingNumber = number })
        #expect(registered.shipment.events.map(\.custodyLeafIndex) == [1])
        #expect(recorded.event.custodyLeafIndex == 2)
        #expect(stored.events.map(\.custodyLeafIndex) == [1, 2])
      }
    }
  }
}
