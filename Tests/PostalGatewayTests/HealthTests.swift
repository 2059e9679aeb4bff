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
@Suite("Health that means something")
struct HealthWatchTests {
  static let counter = "postalgateway.v1.CounterService"
  static let tracking = "postalgateway.v1.TrackingService"

  @Test("an open Watch stream sees NOT_SERVING and ends when the gateway shuts down")
  func watchEndsAtShutdown() async throws {
    let status = HealthStatus(services: [Self.counter])
    var updates = status.updates(of: Self.counter).makeAsyncIterator()
    #expect(await updates.next() == .notServing, "nothing serves before it started")
    status.set([Self.counter: .serving])
    #expect(await updates.next() == .serving)
    status.shutDown()
    #expect(await updates.next() == .notServing)
    #expect(await updates.next() == nil)
    #expect(status.status(of: "") == .notServing)
    var unknown = status.updates(of: "nope").makeAsyncIterator()
    #expect(await unknown.next() == .serviceUnknown)
    #expect(await unknown.next() == nil)
  }

  @Test("NOT_SERVING while starting, for writers while the store cannot write, and while draining")
  func lifecycleAndStore() {
    let health = GatewayListeners.health()
    let partner = health.partner
    let citizens = health.publicListener
    #expect(partner.status(of: Self.counter) == .notServing)
    health.listenerStarted("partner")
    #expect(partner.status(of: "") == .notServing, "one listener is not the gateway")
    health.listenerStarted("public")
    #expect(partner.status(of: "") == .serving)
    #expect(partner.status(of: Self.counter) == .serving)
    #expect(citizens.status(of: Self.tracking) == .serving)

    health.storeChanged(writable: false)
    #expect(partner.status(of: Self.counter) == .notServing)
    #expect(partner.status(of: "") == .notServing)
    #expect(partner.status(of: "postalgateway.v1.OversightService") == .serving, "reads go on")
    #expect(citizens.status(of: Self.tracking) == .serving)
    #expect(citizens.status(of: "") == .serving)
    health.storeChanged(writable: true)
    #expect(partner.status(of: Self.counter) == .serving)

    health.beginDraining()
    #expect(partner.status(of: "") == .notServing)
    #expect(citizens.status(of: Self.tracking) == .notServing)
  }

  @Test("both listeners coming up at once, with a store probe, leave the gateway SERVING")
  func concurrentChanges() {
    // Found as test gateways that never started: two updates publishing out of order left a
    // stale NOT_SERVING behind for good. Threads, not tasks, so that the updates really race.
    var stale = 0
    for _ in 0 ..< 4000 {
      let health = GatewayListeners.health()
      DispatchQueue.concurrentPerform(iterations: 6) { index in
        switch index {
        case 0: health.listenerStarted("partner")
        case 1: health.listenerStarted("public")
        default: health.storeChanged(writable: true)
        }
      }
      if !health.isServing || health.publicListener.status(of: "") != .serving { stale += 1 }
    }
    #expect(stale == 0)
  }
}
