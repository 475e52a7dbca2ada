#include <tomato/registry/instanceinfo.h>

#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QUrl>
#include <QtCore/QUrlQuery>

namespace Tomato {

namespace {
QString encode(const QString &s)
{
    return QString::fromLatin1(QUrl::toPercentEncoding(s));
}
} // namespace

QString encodePathSegment(const QString &segment)
{
    return encode(segment);
}

QString InstanceInfo::toUri() const
{
    // Concatenated, not QString::arg(): encoded values contain '%' followed by digits.
    const QString h = host.contains(QLatin1Char(':')) ? QLatin1Char('[') + host + QLatin1Char(']') : host;
    return QLatin1String("tomato://") + h + QLatin1Char(':') + QString::number(port)
        + QLatin1String("/?micro-service-id=") + encode(microServiceId)
        + QLatin1String("&stage=") + encode(stage) + QLatin1String("&group=") + encode(group)
        + QLatin1String("&weight=") + QString::number(weight)
        + QLatin1String("&protocol=") + QString::number(protocolVersion)
        + QLatin1String("&interfaces=") + encode(interfaces);
}

std::optional<InstanceInfo> InstanceInfo::fromUri(const QString &uri)
{
    const QUrl url(uri, QUrl::StrictMode);
    if (!url.isValid() || url.scheme() != QLatin1String("tomato") || url.host().isEmpty()
        || url.port() <= 0)
        return std::nullopt;
    const QUrlQuery query(url.query(QUrl::FullyEncoded));
    auto item = [&](const char *key) {
        return query.queryItemValue(QLatin1String(key), QUrl::FullyDecoded);
    };
    InstanceInfo info;
    info.host = url.host();
    info.port = quint16(url.port());
    info.microServiceId = item("micro-service-id");
    info.stage = item("stage");
    info.group = item("group");
    bool ok = true;
    if (query.hasQueryItem(QStringLiteral("weight")))
        info.weight = item("weight").toInt(&ok);
    if (!ok)
        return std::nullopt;
    if (query.hasQueryItem(QStringLiteral("protocol")))
        info.protocolVersion = item("protocol").toInt(&ok);
    info.interfaces = item("interfaces");
    if (!ok || info.microServiceId.isEmpty() || info.stage.isEmpty())
        return std::nullopt;
    return info;
}

QString InstanceInfo::nodeName() const
{
    return encode(toUri());
}

std::optional<InstanceInfo> InstanceInfo::fromNodeName(const QString &nodeName)
{
    return fromUri(QUrl::fromPercentEncoding(nodeName.toLatin1()));
}

QByteArray InstanceInfo::toJson() const
{
    const QJsonObject o{{QStringLiteral("host"), host},
                        {QStringLiteral("port"), port},
                        {QStringLiteral("microServiceId"), microServiceId},
                        {QStringLiteral("stage"), stage},
                        {QStringLiteral("group"), group},
                        {QStringLiteral("weight"), weight},
                        {QStringLiteral("protocolVersion"), protocolVersion},
                        {QStringLiteral("interfaces"), interfaces},
                        {QStringLiteral("uri"), toUri()}};
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

bool InstanceInfo::operator==(const InstanceInfo &o) const
{
    return host == o.host && port == o.port && microServiceId == o.microServiceId
        && stage == o.stage && group == o.group && weight == o.weight
        && protocolVersion == o.protocolVersion && interfaces == o.interfaces;
}

} // namespace Tomato
