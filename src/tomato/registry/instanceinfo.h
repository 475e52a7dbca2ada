// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/core/endpoint.h>
#include <tomato/core/tomato_export.h>
#include <QtCore/QByteArray>
#include <QtCore/QMetaType>
#include <QtCore/QSharedDataPointer>
#include <QtCore/QString>
#include <optional>

namespace Tomato {

class InstanceInfoData;

// One running server instance as the registry knows it. A plain value, implicitly shared.
//
// Its URI is the registry node name (docs/REGISTRY.md), as in the original Tomato-RPC:
//   tomato://host:port/?micro-service-id=..&stage=..&group=..&weight=..&protocol=1&interfaces=..&start-time=..
// (start-time only when known; a malformed one reads as 0, unknown).
// A TLS instance is tomato+tls://host:port/?..., so a client connects to it over TLS by
// itself. Every query value is percent-encoded; the node name is that whole URI
// percent-encoded once more, so it holds no '/'.
class TOMATO_EXPORT InstanceInfo
{
public:
    InstanceInfo();
    InstanceInfo(const InstanceInfo &other);
    InstanceInfo &operator=(const InstanceInfo &other);
    ~InstanceInfo();

    QString transport() const; // "tcp" (the default) or "tls"
    void setTransport(const QString &scheme);
    QString host() const;
    void setHost(const QString &host);
    quint16 port() const;
    void setPort(quint16 port);
    QString microServiceId() const;
    void setMicroServiceId(const QString &id);
    QString stage() const;
    void setStage(const QString &stage);
    QString group() const;
    void setGroup(const QString &group);
    int weight() const; // 100 by default
    void setWeight(int weight);
    int protocolVersion() const; // 1
    void setProtocolVersion(int version);
    QString interfaces() const; // hash of the published interfaces' signatures
    void setInterfaces(const QString &hash);
    // The Tomato RPC release the instance runs ("0.1.0"; TOMATO_VERSION_STRING); empty when
    // unknown (a server older than 0.1.0). Travels as version; shown, never acted on.
    QString version() const;
    void setVersion(const QString &version);
    // When the instance started, in milliseconds since the epoch (UTC); 0 when unknown (an
    // older server). Travels as start-time; clients ramp a new instance up over warmup-seconds.
    qint64 startTime() const;
    void setStartTime(qint64 msSinceEpoch);

    // Where to connect: transport://host:port.
    Endpoint endpoint() const;
    QString address() const { return endpoint().authority(); } // host:port

    QString toUri() const;
    // Null when the text is not a tomato:// or tomato+tls:// URI with host, port,
    // micro-service-id and stage.
    static std::optional<InstanceInfo> fromUri(const QString &uri);
    QString nodeName() const;
    static std::optional<InstanceInfo> fromNodeName(const QString &nodeName);
    // The node data: the same fields as JSON, for tools that read the tree.
    QByteArray toJson() const;

    bool operator==(const InstanceInfo &o) const;
    bool operator!=(const InstanceInfo &o) const { return !(*this == o); }

private:
    QSharedDataPointer<InstanceInfoData> d;
};

// Percent-encodes one path segment of the registry tree (every byte outside
// A-Z a-z 0-9 - . _ ~ becomes %XX).
TOMATO_EXPORT QString encodePathSegment(const QString &segment);

} // namespace Tomato

Q_DECLARE_METATYPE(Tomato::InstanceInfo)
