// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/core/tomato_export.h>

#include <QtCore/QByteArray>
#include <QtCore/QString>
#include <optional>

namespace Tomato {

// One client of a service, as the registry shows it (docs/REGISTRY.md#consumers): the node
// /tomato/{service}/{stage}/consumers/{node name} is EPHEMERAL and holds toJson(). A plain value.
//
// Its URI: consumer://host/?micro-service-id=..&stage=..&group=..&pid=..&version=..&status=..
//   &application=..&client=..
// (values percent-encoded); the node name is that URI percent-encoded once more.
struct TOMATO_EXPORT ConsumerInfo
{
    QString microServiceId; // the service it calls
    QString stage;
    QString group;          // the group it calls
    QString host;           // where it runs
    qint64 pid = 0;
    QString version;        // Tomato RPC version
    QString statusAddress;  // its status endpoint (host:port), empty when it has none
    QString application;    // program name, may be empty
    int client = 0;         // which RpcClient of the process (1, 2, ...), so that two clients
                            // of one process have a node each; 0: not said

    QString toUri() const;
    static std::optional<ConsumerInfo> fromUri(const QString &uri);
    QString nodeName() const;
    static std::optional<ConsumerInfo> fromNodeName(const QString &nodeName);
    QByteArray toJson() const;
    bool operator==(const ConsumerInfo &o) const;
    bool operator!=(const ConsumerInfo &o) const { return !(*this == o); }
};

} // namespace Tomato
