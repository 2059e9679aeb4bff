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
extension LifecycleEndToEndTests {
  @Test(
    "a result returns to the agency only after two failed invitations two working days apart, once the last one's waiting period is over"
  )
  func returnToAgencyNeedsSpacedInvitations() async throws {
    let clock = TestClock("2026-11-12T09:00:00+07:00")
    try await withTestGateway(clock: clock) { gateway in
      let keys = HandoverKeys()
      try await keys.register(on: gateway)
      try await gateway.withPartnerClient(self.pki.staff) { counter in
        var request = samplePickup()
        request.serviceType = .resultOnly
        let registered = try await counter.registerPickup(request)
        let number = registered.shipment.trackingNumber
        #expect(registered.shipment.state == .awaitingResult)
        let collectedAt = clock.now().proto
        let resultHandover = try keys.handover(
          registered.shipment,
          kind: .resultCollected,
          occurredAt: collectedAt,
          resultSeal: "R-1"
        )
        _ = try await counter.recordResultCollected(
          .with {
            $0.requestID = UUID().uuidString
            $0.trackingNumber = number
            $0.result = .with {
              $0.documents = ["Kết quả"]
              $0.sealID = "R-1"
            }
            $0.occurredAt = collectedAt
            $0.handover = resultHandover
          }
        )
        _ = try await counter.recordEvent(eventRequest(number, .outForDelivery))
        func attempt(_ iso: String) async throws {
          clock.set(iso)
          _ = try await counter.recordDeliveryAttempt(
            .with {
              $0.requestID = UUID().uuidString
              $0.trackingNumber = number
              $0.failed = .recipientAbsent
              $0.occurredAt = Self.time(iso)
            }
          )
        }
        func returnToAgency() async -> RPCError? {
          await rpcError {
            _ = try await counter.recordEvent(eventRequest(number, .returnedToAgency))
          }
        }
        try await attempt("2026-11-13T09:00:00+07:00")  // Friday
        #expect(await returnToAgency()?.code == .failedPrecondition, "one invitation is not enough")
        try await attempt("2026-11-16T09:00:00+07:00")  // Monday: one working day later
        let tooSoon = await returnToAgency()
        #expect(tooSoon?.code == .failedPrecondition)
        #expect(tooSoon?.message.contains("two working days") == true)
        try await attempt("2026-11-17T15:00:00+07:00")  // Tuesday: two working days after Friday
        // The last invitation gives the citizen Wednesday and Thursday.
        clock.set("2026-11-19T16:00:00+07:00")
        let waiting = await returnToAgency()
        #expect(waiting?.code == .failedPrecondition)
        #expect(waiting?.message.contains("until the end of 2026-11-19") == true)
        clock.set("2026-11-20T08:00:00+07:00")
        #expect(await returnToAgency() == nil)
        let shipment = try await counter.getShipment(.with { $0.trackingNumber = number })
        #expect(shipment.state == .returnedToAgency)
        #expect(shipment.normalizedStatus == .returned)
      }
    }
  }

  @Test(
    "a correction voids an event, the state is recomputed, and a depended-on event cannot be voided"
  )
  func corrections() async throws {
    try await withTestGateway { gateway in
      try await gateway.withPartnerClient(self.pki.staff) { counter in
        let number = try await counter.registerPickup(samplePickup()).shipment.trackingNumber
        _ = try await counter.recordCollection(collectionRequest(number))  // 2
        let dispatched = try await counter.recordEvent(eventRequest(number, .dispatched))  // 3
        #expect(dispatched.shipment.state == .inTransit)
        let scan = try await counter.recordEvent(eventRequest(number, .transitScan))  // 4

        let dependent = await rpcError {
          _ = try await counter.correctEvent(
            .with {
              $0.requestID = UUID().uuidString
              $0.trackingNumber = number
              $0.sequence = 3
              $0.reason = "recorded at the wrong office"
            }
          )
        }
        #expect(dependent?.code == .failedPrecondition, "the transit scan depends on the dispatch")

        let voidScan = try await counter.correctEvent(
          .with {
            $0.requestID = UUID().uuidString
            $0.trackingNumber = number
            $0.sequence = scan.event.sequence
            $0.reason = "scanned the wrong envelope"
          }
        )
        #expect(voidScan.event.type == .correction)
        let voidDispatch = try await counter.correctEvent(
          .with {
            $0.requestID = UUID().uuidString
            $0.trackingNumber = number
            $0.sequence = 3
            $0.reason = "not dispatched yet"
          }
        )
        #expect(voidDispatch.shipment.state == .collected)
        #expect(voidDispatch.shipment.events.filter(\.voided).map(\.sequence) == [3, 4])
        #expect(voidDispatch.shipment.events.count == 6, "nothing is edited or removed")

        let twice = await rpcError {
          _ = try await counter.correctEvent(
            .with {
              $0.requestID = UUID().uuidString
              $0.trackingNumber = number
              $0.sequence = 3
              $0.reason = "again"
            }
          )
        }
        #expect(twice?.code == .invalidArgument)
        let registration = await rpcError {
          _ = try await counter.correctEvent(
            .with {
              $0.requestID = UUID().uuidString
              $0.trackingNumber = number
              $0.sequence = 1
              $0.reason = "no"
            }
          )
        }
        #expect(registration?.code == .invalidArgument)
      }
    }
  }

  @Test("damage records the inventory and the new seal; LOST is an exception")
  func damageAndLoss() async throws {
    try await withTestGateway { gateway in
      try await gateway.withPartnerClient(self.pki.staff) { counter in
        let number = try await counter.registerPickup(samplePickup()).shipment.trackingNumber
        let early = await rpcError {
          _ = try await counter.recordDamage(
            .with {
              $0.requestID = UUID().uuidString
              $0.trackingNumber = number
              $0.inventory = ["x"]
              $0.newSealID = "S-2"
            }
          )
        }
        #expect(early?.code == .failedPrecondition, "nothing in postal hands yet")
        _ = try await counter.recordCollection(collectionRequest(number))
        let damaged = try await counter.recordDamage(
          .with {
            $0.requestID = UUID().uuidString
            $0.trackingNumber = number
            $0.inventory = [
              "Tờ khai: 2 trang, nguyên vẹn", "Bản sao giấy tờ tùy thân: 1 trang, ướt",
            ]
            $0.newSealID = "S-000124"
          }
        )
        #expect(damaged.shipment.state == .collected)
        #expect(damaged.shipment.currentSealID == "S-000124")
        #expect(damaged.event.damage.inventory.count == 2)
        let lost = try await counter.recordEvent(eventRequest(number, .lost))
        #expect(lost.shipment.state == .lost)
        #expect(lost.shipment.normalizedStatus == .exception)
      }
    }
  }

  @Test(
    "offline sync applies in order, once: duplicates, out-of-order delivery, a gap and a reconnect"
  )
  func offlineSync() async throws {
    // Registered before the device's events, which the device stamps with its own clock.
    let clock = TestClock("2026-11-20T07:30:00+07:00")
    try await withTestGateway(clock: clock) { gateway in
      try await gateway.withPartnerClient(self.pki.staff) { counter in
        let number = try await counter.registerPickup(samplePickup()).shipment.trackingNumber
        _ = try await counter.recordCollection(collectionRequest(number))
        clock.set("2026-11-20T08:10:00+07:00")
        func message(
          _ sequence: Int64,
          _ type: Postalgateway_V1_EventType,
          note: String = ""
        )
          -> Postalgateway_V1_SyncEventsRequest
        {
          .with {
            $0.deviceID = "handheld-7"
            $0.deviceSequence = sequence
            $0.deviceTime = Self.time("2026-11-20T08:0\(sequence):00+07:00")
            $0.recordEvent = .with {
              $0.trackingNumber = number
              $0.type = type
              $0.note = note
            }
          }
        }
        func sync(
          _ messages: [Postalgateway_V1_SyncEventsRequest]
        ) async throws -> [Postalgateway_V1_SyncEventsResponse] {
          try await counter.syncEvents(
            requestProducer: { writer in try await writer.write(contentsOf: messages) },
            onResponse: { response in try await response.messages.reduce(into: []) { $0.append($1) }
            }
          )
        }

        // First connection: 1 arrives, then 3 (a gap at 2), then 1 again.
        let first = try await sync([
          message(1, .dispatched), message(3, .transitScan), message(1, .dispatched),
        ])
        #expect(first.map(\.status) == [.accepted, .held, .duplicate])
        #expect(first[1].missingSequences == [2])
        #expect(first[1].processedThrough == 1)
        #expect(first[2].eventSequence == first[0].eventSequence)

        // Reconnect: 2 arrives, so 2 and the held 3 apply in order; a bad 4; 4 again; 3 reused.
        let second = try await sync([
          message(2, .transitScan), message(4, .dispatched), message(4, .dispatched),
          message(3, .cancelled),
        ])
        #expect(second.map(\.deviceSequence) == [2, 3, 4, 4, 3])
        #expect(second.map(\.status) == [.accepted, .accepted, .rejected, .duplicate, .rejected])
        #expect(second[2].code == Int32(RPCError.Code.failedPrecondition.rawValue))
        #expect(second[3].code == second[2].code, "a duplicate repeats the original rejection")
        #expect(second[4].code == Int32(RPCError.Code.alreadyExists.rawValue))
        #expect(second.last?.processedThrough == 4)
        #expect(second.last?.missingSequences == [])

        let shipment = try await counter.getShipment(.with { $0.trackingNumber = number })
        #expect(
          shipment.events.map(\.type).suffix(3) == [.dispatched, .transitScan, .transitScan]
        )
        #expect(shipment.state == .inTransit)
        #expect(shipment.events.last?.occurredAt == Self.time("2026-11-20T08:03:00+07:00"))

        let malformed = try await sync([.with { $0.deviceID = "" }])
        #expect(malformed.first?.status == .rejected)
      }
    }
  }

  @Test("the catalog reloads without a restart")
  func catalogReload() async throws {
    let directory = temporaryDirectory()
    let path = (directory as NSString).appendingPathComponent("catalog.json")
    let sample = try CatalogFile.bundledSample
    try sample.write(to: URL(fileURLWithPath: path))
    let configure: (inout GatewayConfiguration) -> Void = { $0.catalogPath = path }
    try await withTestGateway(configure: configure) { gateway in
      try await gateway.withPartnerClient(self.pki.staff) { counter in
        var request = samplePickup()
        request.procedureCode = "2.000622"
        request.destinationAgencyCode = ""  // a copy of 1.001193: the commune's
        #expect(
          await rpcError { _ = try await counter.registerPickup(request) }?.code == .invalidArgument
        )

        var text = String(decoding: sample, as: UTF8.self)
        let version = try CatalogFile.decode(sample).version
        text = text.replacingOccurrences(
          of: "\"version\": \"\(version)\"",
          with: "\"version\": \"h55-test-2\""
        )
        text = text.replacingOccurrences(
          of: "\"code\": \"1.001193\"",
          with: "\"code\": \"2.000622\""
        )
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        #expect(try gateway.gateway.reloadCatalog() == "h55-test-2")

        request.requestID = UUID().uuidString
        #expect(try await counter.registerPickup(request).shipment.procedureCode == "2.000622")
        let procedure = try await counter.getProcedure(.with { $0.procedureCode = "2.000622" })
        #expect(procedure.catalogVersion == "h55-test-2")

        try Data("{ not json".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: ConfigurationError.self) { try gateway.gateway.reloadCatalog() }
        #expect(
          gateway.gateway.catalog.current.version == "h55-test-2",
          "a bad file keeps the catalog in force"
        )
      }
    }
  }
}
