#pragma once
#include <tomato/core/tomato_export.h>
#include <QtCore/QByteArray>
#include <QtCore/QList>
#include <QtCore/QMetaType>
#include <QtCore/QString>
#include <optional>

namespace Tomato {

// One running server instance as the registry knows it. A plain value.
//
// Its URI is the registry node name (docs/REGISTRY.md), as in the original Tomato-RPC:
//   tomato://host:port/?micro-service-id=..&stage=..&group=..&weight=..&protocol=1&interfaces=..
// with every query value percent-encoded; the node name is that whole URI percent-encoded
// once more, so it holds no '/'.
struct TOMATO_EXPORT InstanceInfo
{
    QString host;
    quint16 port = 0;
    QString microServiceId;
    QString stage;
    QString group;
    int weight = 100;
    int protocolVersion = 1;
    QString interfaces; // hash of the published interfaces' signatures (see interfacesHash())

    QString address() const { return host + QLatin1Char(':') + QString::number(port); }
    QString toUri() const;
    // Null when the text is not a tomato:// URI with host, port, micro-service-id and stage.
    static std::optional<InstanceInfo> fromUri(const QString &uri);
    QString nodeName() const;
    static std::optional<InstanceInfo> fromNodeName(const QString &nodeName);
    // The node data: the same fields as JSON, for tools that read the tree.
    QByteArray toJson() const;

    bool operator==(const InstanceInfo &o) const;
    bool operator!=(const InstanceInfo &o) const { return !(*this == o); }
};

// Percent-encodes one path segment of the registry tree (every byte outside
// A-Z a-z 0-9 - . _ ~ becomes %XX).
TOMATO_EXPORT QString encodePathSegment(const QString &segment);

} // namespace Tomato

Q_DECLARE_METATYPE(Tomato::InstanceInfo)
