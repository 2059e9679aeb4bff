import Crypto
import Foundation
import PostgresStorage
import Testing
import Tracking

/// A backend's handover key store, for the contract below.
struct SigningKeyBackend: Sendable, CustomStringConvertible {
  var description: String
  /// Two handles on one fresh store, as two replicas would hold (SQLite: the same one twice).
  var open: @Sendable () async throws -> (any SigningKeyStore, any SigningKeyStore)

  static let sqlite = SigningKeyBackend(description: "SQLite") {
    let stores = try await StoreBackend.sqlite.open()
    return (stores.signingKeys, stores.signingKeys)
  }

  static let postgres = SigningKeyBackend(description: "PostgreSQL") {
    let first = try await PostgresTestDatabase.migrated(maximumConnections: 4)
    let second = try await PostgresPool.open(first.location, maximumConnections: 4)
    return (PostgresSigningKeyStore(pool: first), PostgresSigningKeyStore(pool: second))
  }

  static let all: [SigningKeyBackend] =
    [.sqlite] + (PostgresTestDatabase.enabled ? [.postgres] : [])
}

@Suite("Store contract: handover signing keys")
struct SigningKeyStoreContractTests {
  static func key(_ owner: String) throws -> SigningKey {
    try SigningKey(
      owner: owner,
      publicKey: Array(Curve25519.Signing.PrivateKey().publicKey.rawRepresentation)
    )
  }

  @Test(
    "a key belongs to the identity that registered it first, even when two replicas register it at once",
    arguments: SigningKeyBackend.all
  )
  func firstOwnerKeepsTheKey(backend: SigningKeyBackend) async throws {
    let (a, b) = try await backend.open()
    let now = Timestamp(microseconds: 1_764_000_000_000_000)
    let device = try Self.key("spiffe://test/staff/250000/clerk-01")
    try await a.register(device, now: now)
    try await b.register(device, now: now.advanced(by: .seconds(1)))
    #expect(try await b.signingKey(device.keyID) == device)
    let stolen = try SigningKey(owner: "spiffe://test/agency/H55", publicKey: device.publicKey)
    await #expect {
      try await b.register(stolen, now: now)
    } throws: { ($0 as? TrackingError)?.code == .requestIDReused }

    let second = try Self.key("spiffe://test/staff/250000/clerk-01")
    try await b.register(second, now: now.advanced(by: .seconds(2)))
    #expect(try await a.signingKeys(of: device.owner) == [device, second])
    #expect(try await a.signingKey("0000000000000000") == nil)

    // Ten identities race for one new key across both handles: exactly one gets it.
    let contested = Array(Curve25519.Signing.PrivateKey().publicKey.rawRepresentation)
    let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
      for index in 0 ..< 10 {
        group.addTask {
          let store = index.isMultiple(of: 2) ? a : b
          do {
            try await store.register(
              try SigningKey(
                owner: "spiffe://test/staff/250000/racer-\(index)",
                publicKey: contested
              ),
              now: now
            )
            return true
          } catch let error as TrackingError where error.code == .requestIDReused {
            return false
          }
        }
      }
      return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
    }
    #expect(winners == 1)
  }
}
