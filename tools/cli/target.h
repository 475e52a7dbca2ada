// SPDX-License-Identifier: Apache-2.0
#pragma once
#include "cli.h"

#include <tomato/client/rpcclient.h>

#include <QtCore/QJsonArray>

#include <memory>

namespace Cli {

// What describe, call and status talk to (docs/CLI.md#targets): one node at an address
// (tcp://host:port, tls://host:port, unix:///path, or host:port), or the instances of a
// micro-service that the registry lists, load balanced as any client's calls are. Owns the
// client and, for a service, the registry. Main thread only.
class Target
{
public:
    // An address has "://" or is host:port with a numeric port; anything else is a service id.
    static bool isAddress(const QString &text);
    // Throws Failure(UsageError) for a malformed address, or for a service id without a
    // usable registry URI.
    Target(const GlobalOptions &options, const QString &text);
    Target(const Target &) = delete;
    Target &operator=(const Target &) = delete;

    // "tcp://127.0.0.1:4567", or "demo-rpc-service in dev/main".
    QString name() const;
    // Calls `service`'s `method` with JSON arguments and waits for the answer within the
    // command's deadline: the result (Undefined for a void method), or the call's RpcError
    // thrown. For a service, waits first until the registry lists an instance:
    // Failure(Unreachable) when it lists none or cannot be reached.
    QJsonValue call(const QString &service, const QString &method, const QJsonArray &arguments,
                    Tomato::CallOptions options = {});

private:
    void waitForProvider();

    const GlobalOptions &m_options;
    const QString m_text;
    std::unique_ptr<Tomato::Registry> m_registry; // declared before the client: it outlives it
    std::unique_ptr<Tomato::RpcClient> m_client;
    std::shared_ptr<Tomato::Channel> m_channel;
};

} // namespace Cli
