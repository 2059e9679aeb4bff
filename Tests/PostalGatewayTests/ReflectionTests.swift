import Foundation
import GRPCCore
import GRPCInProcessTransport
import Proto
import SwiftProtobuf
import Testing

@testable import PostalGateway

/// Server reflection over the in-process transport: what each listener lists, and the
/// descriptors a generic client needs to call a method.
@Suite("Server reflection")
struct ReflectionTests {
  static func ask(
    _ requests: [Grpc_Reflection_V1_ServerReflectionRequest],
    on client: GRPCClient<InProcessTransport.Client>
  ) async throws -> [Grpc_Reflection_V1_ServerReflectionResponse] {
    try await Grpc_Reflection_V1_ServerReflection.Client(wrapping: client).serverReflectionInfo(
      requestProducer: { writer in try await writer.write(contentsOf: requests) },
      onResponse: { response in
        var answers: [Grpc_Reflection_V1_ServerReflectionResponse] = []
        for try await message in response.messages { answers.append(message) }
        return answers
      }
    )
  }

  static func files(_ response: Grpc_Reflection_V1_ServerReflectionResponse) throws -> [String] {
    try response.fileDescriptorResponse.fileDescriptorProto.map {
      try Google_Protobuf_FileDescriptorProto(serializedBytes: $0).name
    }
  }

  @Test("each listener lists exactly the services it serves, reflection included")
  func listsServices() async throws {
    try await withTestGateway { gateway in
      let partner = try await gateway.inProcess(as: .partner(.testStaff)) { client in
        try await Self.ask([.with { $0.listServices = "" }], on: client)
      }
      #expect(
        partner.first?.listServicesResponse.service.map(\.name) == [
          "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection",
          "grpc.reflection.v1alpha.ServerReflection", "postalgateway.v1.AgencyService",
          "postalgateway.v1.CounterService", "postalgateway.v1.OperatorService",
          "postalgateway.v1.OversightService", "postalgateway.v1.SigningKeyService",
        ]
      )
      let citizen = try await gateway.inProcess(as: .citizen) { client in
        try await Self.ask([.with { $0.listServices = "" }], on: client)
      }
      #expect(
        citizen.first?.listServicesResponse.service.map(\.name) == [
          "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection",
          "grpc.reflection.v1alpha.ServerReflection", "postalgateway.v1.CustodyService",
          "postalgateway.v1.TrackingService",
        ]
      )
    }
  }

  @Test("a method's file comes with every file it imports; an unknown one is NOT_FOUND")
  func descriptors() async throws {
    try await withTestGateway { gateway in
      let answers = try await gateway.inProcess(as: .citizen) { client in
        try await Self.ask(
          [
            .with { $0.fileContainingSymbol = "postalgateway.v1.CounterService.RecordCollection" },
            .with { $0.fileContainingSymbol = "postalgateway.v1.Procedure.FeeRule" },
            .with { $0.fileByFilename = "postalgateway/v1/nothing.proto" },
            .with { $0.fileContainingSymbol = "postalgateway.v1.Nothing" },
          ],
          on: client
        )
      }
      try #require(answers.count == 4)
      let files = try Self.files(answers[0])
      #expect(files.first == "postalgateway/v1/counter_service.proto")
      #expect(files.contains("postalgateway/v1/common.proto"))
      #expect(files.contains("google/protobuf/timestamp.proto"))
      #expect(Set(files).count == files.count)
      #expect(try Self.files(answers[1]).first == "postalgateway/v1/counter_service.proto")
      for answer in answers[2...] {
        #expect(answer.errorResponse.errorCode == Int32(RPCError.Code.notFound.rawValue))
      }
      #expect(answers[3].originalRequest.fileContainingSymbol == "postalgateway.v1.Nothing")
    }
  }

  @Test("v1alpha gives the same answers for older tools")
  func v1alpha() async throws {
    try await withTestGateway { gateway in
      let answers = try await gateway.inProcess(as: .citizen) { client in
        try await Grpc_Reflection_V1alpha_ServerReflection.Client(wrapping: client)
          .serverReflectionInfo(
            requestProducer: { writer in
              try await writer.write(
                .with { $0.fileByFilename = "postalgateway/v1/tracking_service.proto" }
              )
            },
            onResponse: { response in
              var answers: [Grpc_Reflection_V1alpha_ServerReflectionResponse] = []
              for try await message in response.messages { answers.append(message) }
              return answers
            }
          )
      }
      let names = try answers.first?.fileDescriptorResponse.fileDescriptorProto.map {
        try Google_Protobuf_FileDescriptorProto(serializedBytes: $0).name
      }
      #expect(names?.first == "postalgateway/v1/tracking_service.proto")
    }
  }
}
