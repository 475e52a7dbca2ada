// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/client/stub.h>

#include <QtCore/QJsonArray>
#include <QtCore/QJsonValue>

namespace Tomato {

// Calls any method of any service by name, without a generated stub or the interface's
// header: the counterpart of Qt Remote Objects' dynamic replicas and of gRPC's
// reflection-based calls. The `tomato` command line and QML calls use it.
//
//     Tomato::RpcClient client;
//     Tomato::DynamicStub echo(client.directChannel(client.endpoint("tcp://127.0.0.1:4567")),
//                              "Sample::EchoService");
//     QJsonValue r = Tomato::waitFor(echo.callJson("echo", QJsonArray{"hi"}));  // "hi"
//     QVariant s = Tomato::waitFor(echo.call("sum", {2, 3}));                    // 5
//
// Calls travel in the JSON serialization (docs/SERIALIZATION.md): the server converts the
// arguments to the method's parameter types, so a wrong count or type is the server's
// BadArguments, an unknown method its UnknownMethod. Which methods exist and what they take
// is what the built-in Tomato::Introspection service tells (docs/STATUS.md).
//
// Threads: like a generated stub, usable from any thread, many calls at once; the channel
// (direct or cluster, with its load balancing and failover) decides where calls go.
class TOMATO_EXPORT DynamicStub
{
public:
    // `service`: the interface's qualified class name, as it travels ("Sample::EchoService").
    DynamicStub(std::shared_ptr<Channel> channel, const QString &service, const StubOptions &options = {});
    ~DynamicStub();
    DynamicStub(const DynamicStub &) = delete;
    DynamicStub &operator=(const DynamicStub &) = delete;

    // Arguments as a JSON array, one element per parameter in declaration order; the result
    // as the JSON value the server answered (QJsonValue::Undefined for a void method).
    QFuture<QJsonValue> callJson(const QString &method, const QJsonArray &arguments,
                                 const CallOptions &options = {}) const;
    // Arguments as variants, written as docs/SERIALIZATION.md says for their types (a
    // QByteArray in base64, a QDateTime in ISO 8601, a gadget as an object, ...); the result as
    // a variant read the same way (numbers, strings, lists, maps; invalid for void).
    QFuture<QVariant> call(const QString &method, const QVariantList &arguments,
                           const CallOptions &options = {}) const;

    QString service() const;
    std::chrono::milliseconds timeout() const;
    void setTimeout(std::chrono::milliseconds timeout);
    // Methods a cluster channel may retry on another instance after a failure that left it
    // unknown whether the call ran (Q_CLASSINFO("idempotent") for generated stubs).
    void setIdempotentMethods(const QStringList &methods);

private:
    void send(const QString &method, QByteArray body, const CallOptions &options,
              std::unique_ptr<PendingCall> pending) const;
    std::unique_ptr<class DynamicStubPrivate> d;
};

} // namespace Tomato
