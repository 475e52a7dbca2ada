// SPDX-License-Identifier: Apache-2.0
#include <tomato/registry/instanceinfo.h>

#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QUrl>
#include <QtCore/QUrlQuery>

namespace Tomato {

class InstanceInfoData : public QSharedData
{
public:
    QString transport = QStringLiteral("tcp");
    QString host;
    quint16 port = 0;
    QString microServiceId;
    QString stage;
    QString group;
    int weight = 100;
    int protocolVersion = 1;
    QString interfaces;
    QString version;
    qint64 startTime = 0;
};

InstanceInfo::InstanceInfo() : d(new InstanceInfoData) { }
InstanceInfo::InstanceInfo(const InstanceInfo &other) = default;
InstanceInfo &InstanceInfo::operator=(const InstanceInfo &other) = default;
InstanceInfo::~InstanceInfo() = default;

QString InstanceInfo::transport() const { return d->transport; }
void InstanceInfo::setTransport(const QString &scheme) { d->transport = scheme; }
QString InstanceInfo::host() const { return d->host; }
void InstanceInfo::setHost(const QString &host) { d->host = host; }
quint16 InstanceInfo::port() const { return d->port; }
void InstanceInfo::setPort(quint16 port) { d->port = port; }
QString InstanceInfo::microServiceId() const { return d->microServiceId; }
void InstanceInfo::setMicroServiceId(const QString &id) { d->microServiceId = id; }
QString InstanceInfo::stage() const { return d->stage; }
void InstanceInfo::setStage(const QString &stage) { d->stage = stage; }
QString InstanceInfo::group() const { return d->group; }
void InstanceInfo::setGroup(const QString &group) { d->group = group; }
int InstanceInfo::weight() const { return d->weight; }
void InstanceInfo::setWeight(int weight) { d->weight = weight; }
int InstanceInfo::protocolVersion() const { return d->protocolVersion; }
void InstanceInfo::setProtocolVersion(int version) { d->protocolVersion = version; }
QString InstanceInfo::interfaces() const { return d->interfaces; }
void InstanceInfo::setInterfaces(const QString &hash) { d->interfaces = hash; }
QString InstanceInfo::version() const { return d->version; }
void InstanceInfo::setVersion(const QString &version) { d->version = version; }
qint64 InstanceInfo::startTime() const { return d->startTime; }
void InstanceInfo::setStartTime(qint64 msSinceEpoch) { d->startTime = msSinceEpoch; }

Endpoint InstanceInfo::endpoint() const
{
    return Endpoint(d->transport, d->host, d->port);
}

namespace {
QString encode(const QString &s)
{
    return QString::fromLatin1(QUrl::toPercentEncoding(s));
}

// tcp instances keep the original's scheme; others say their transport: tomato+tls.
QString uriScheme(const QString &transport)
{
    return transport == QLatin1String("tcp") ? QStringLiteral("tomato") : QLatin1String("tomato+") + transport;
}
} // namespace

QString encodePathSegment(const QString &segment)
{
    return encode(segment);
}

QString InstanceInfo::toUri() const
{
    // Concatenated, not QString::arg(): encoded values contain '%' followed by digits.
    return uriScheme(d->transport) + QLatin1String("://") + endpoint().authority()
        + QLatin1String("/?micro-service-id=") + encode(d->microServiceId)
        + QLatin1String("&stage=") + encode(d->stage) + QLatin1String("&group=") + encode(d->group)
        + QLatin1String("&weight=") + QString::number(d->weight)
        + QLatin1String("&protocol=") + QString::number(d->protocolVersion)
        + QLatin1String("&interfaces=") + encode(d->interfaces)
        + (d->version.isEmpty() ? QString() : QLatin1String("&version=") + encode(d->version))
        + (d->startTime > 0 ? QLatin1String("&start-time=") + QString::number(d->startTime) : QString());
}

std::optional<InstanceInfo> InstanceInfo::fromUri(const QString &uri)
{
    const QUrl url(uri, QUrl::StrictMode);
    const QString scheme = url.scheme();
    if (!url.isValid() || !(scheme == QLatin1String("tomato") || scheme == QLatin1String("tomato+tls"))
        || url.host().isEmpty() || url.port() <= 0)
        return std::nullopt;
    const QUrlQuery query(url.query(QUrl::FullyEncoded));
    auto item = [&](const char *key) { return query.queryItemValue(QLatin1String(key), QUrl::FullyDecoded); };
    InstanceInfo info;
    info.setTransport(scheme == QLatin1String("tomato") ? QStringLiteral("tcp") : scheme.mid(7));
    info.setHost(url.host());
    info.setPort(quint16(url.port()));
    info.setMicroServiceId(item("micro-service-id"));
    info.setStage(item("stage"));
    info.setGroup(item("group"));
    bool ok = true;
    if (query.hasQueryItem(QStringLiteral("weight")))
        info.setWeight(item("weight").toInt(&ok));
    if (!ok)
        return std::nullopt;
    if (query.hasQueryItem(QStringLiteral("protocol")))
        info.setProtocolVersion(item("protocol").toInt(&ok));
    if (!ok)
        return std::nullopt;
    info.setInterfaces(item("interfaces"));
    info.setVersion(item("version"));
    // Only a hint for warm-up: a malformed one counts as unknown (0) rather than hiding the
    // instance, as a malformed weight does.
    bool timeOk = false;
    const qint64 startTime = item("start-time").toLongLong(&timeOk);
    info.setStartTime(timeOk && startTime > 0 ? startTime : 0);
    if (info.microServiceId().isEmpty() || info.stage().isEmpty())
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
    const QJsonObject o{{QStringLiteral("transport"), d->transport},
                        {QStringLiteral("host"), d->host},
                        {QStringLiteral("port"), d->port},
                        {QStringLiteral("microServiceId"), d->microServiceId},
                        {QStringLiteral("stage"), d->stage},
                        {QStringLiteral("group"), d->group},
                        {QStringLiteral("weight"), d->weight},
                        {QStringLiteral("protocolVersion"), d->protocolVersion},
                        {QStringLiteral("interfaces"), d->interfaces},
                        {QStringLiteral("version"), d->version},
                        {QStringLiteral("startTime"), d->startTime},
                        {QStringLiteral("uri"), toUri()}};
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

bool InstanceInfo::operator==(const InstanceInfo &o) const
{
    return d->transport == o.d->transport && d->host == o.d->host && d->port == o.d->port
        && d->microServiceId == o.d->microServiceId && d->stage == o.d->stage && d->group == o.d->group
        && d->weight == o.d->weight && d->protocolVersion == o.d->protocolVersion && d->interfaces == o.d->interfaces
        && d->version == o.d->version && d->startTime == o.d->startTime;
}

} // namespace Tomato
