import GRPCCore
import GRPCInProcessTransport
import Proto
import Testing
import Tracking

@testable import PostalGateway

/// The role × RPC table, walked cell by cell over the in-process transport with injected
/// identities: every method of every service, every role, generated from the table and the
/// generated service descriptors (not hand-picked).
@Suite("Authorization matrix over the in-process transport")
struct AuthorizationMatrixTests {
  /// Partner identities by role.
  static let partners: [(Role, CallerIdentity)] = [
    (.staff, .partner(.testStaff)), (.agency, .partner(.testAgency)),
    (.operator, .partner(.testOperator)), (.oversight, .partner(.testOversight)),
  ]

  static let partnerMethods: [MethodDescriptor] =
    Postalgateway_V1_CounterService.Method.descriptors
    + Postalgateway_V1_SigningKeyService.Method.descriptors
    + Postalgateway_V1_AgencyService.Method.descriptors
    + Postalgateway_V1_OperatorService.Method.descriptors
    + Postalgateway_V1_OversightService.Method.descriptors
    + Grpc_Health_V1_Health.Method.descriptors
    + Self.reflection

  static let publicMethods: [MethodDescriptor] =
    Postalgateway_V1_TrackingService.Method.descriptors
    + Postalgateway_V1_CustodyService.Method.descriptors
    + Grpc_Health_V1_Health.Method.descriptors
    + Self.reflection

  static let reflection: [MethodDescriptor] =
    Grpc_Reflection_V1_ServerReflection.Method.descriptors
    + Grpc_Reflection_V1alpha_ServerReflection.Method.descriptors

  /// Calls `method` with one empty message and returns the status code it ends with (`.ok`
  /// for a call that answers, whatever it answers).
  static func call(
    _ method: MethodDescriptor,
    on client: GRPCClient<InProcessTransport.Client>,
    timeout: Duration = .milliseconds(300)
  ) async -> RPCError.Code? {
    var options = CallOptions.defaults
    // Streams that stay open (watches) end at the deadline; a refusal comes at once.
    options.timeout = timeout
    do {
      try await client.bidirectionalStreaming(
        request: StreamingClientRequest(of: [UInt8].self) { writer in
          try await writer.write([])
        },
        descriptor: method,
        serializer: RawBytes(),
        deserializer: RawBytes(),
        options: options
      ) { response in
        for try await _ in response.messages {}
      }
      return nil
    } catch let error as RPCError {
      return error.code
    } catch {
      return .unknown
    }
  }

  @Test("every partner role may call exactly what the table allows; the rest is PERMISSION_DENIED")
  func partnerRoles() async throws {
    try await withTestGateway { gateway in
      for (role, identity) in Self.partners {
        try await gateway.inProcess(as: identity) { client in
          for method in Self.partnerMethods {
            let code = await Self.call(method, on: client)
            if AuthorizationPolicy.standard.allows(role, method) {
              #expect(
                code != .permissionDenied && code != .unauthenticated,
                "\(role.rawValue) may call \(method.fullyQualifiedMethod), got \(String(describing: code))"
              )
            } else {
              // On a loaded machine a refusal may miss the short deadline: ask again, slower.
              let code =
                code == .deadlineExceeded
                ? await Self.call(method, on: client, timeout: .seconds(10)) : code
              #expect(
                code == .permissionDenied,
                "\(role.rawValue) must not call \(method.fullyQualifiedMethod), got \(String(describing: code))"
              )
            }
          }
        }
      }
    }
  }

  @Test("a caller without a PostalGateway identity is UNAUTHENTICATED for every partner RPC")
  func noIdentity() async throws {
    try await withTestGateway { gateway in
      try await gateway.inProcess(as: nil) { client in
        for method in Self.partnerMethods {
          var code = await Self.call(method, on: client)
          if code == .deadlineExceeded {
            code = await Self.call(method, on: client, timeout: .seconds(10))
          }
          #expect(code == .unauthenticated, "\(method.fullyQualifiedMethod)")
        }
      }
    }
  }

  @Test("citizens reach tracking, custody and health on the public listener, and nothing else")
  func citizens() async throws {
    try await withTestGateway { gateway in
      try await gateway.inProcess(as: .citizen) { client in
        for method in Self.publicMethods {
          let code = await Self.call(method, on: client)
          #expect(
            code != .permissionDenied && code != .unimplemented,
            "\(method.fullyQualifiedMethod): \(String(describing: code))"
          )
        }
        for method in Self.partnerMethods where !Self.publicMethods.contains(method) {
          #expect(
            await Self.call(method, on: client) == .unimplemented,
            "the public listener does not serve \(method.fullyQualifiedMethod)"
          )
        }
      }
    }
  }
}

/// Messages as their bytes, so that any method can be called with an empty message.
struct RawBytes: MessageSerializer, MessageDeserializer {
  func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes {
    Bytes(message)
  }

  func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> [UInt8] {
    serializedMessageBytes.withUnsafeBytes { Array($0) }
  }
}
