// SPDX-License-Identifier: Apache-2.0
#include <tomato/registry/consumerinfo.h>
#include <tomato/registry/instanceinfo.h>

#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QUrl>
#include <QtCore/QUrlQuery>

namespace Tomato {

QString ConsumerInfo::toUri() const
{
    // Concatenated, not QString::arg(): encoded values contain '%' followed by digits.
    const QString h = host.contains(QLatin1Char(':')) ? QLatin1Char('[') + host + QLatin1Char(']') : host;
    return QLatin1String("consumer://") + h + QLatin1String("/?micro-service-id=") + encodePathSegment(microServiceId)
        + QLatin1String("&stage=") + encodePathSegment(stage) + QLatin1String("&group=") + encodePathSegment(group)
        + QLatin1String("&pid=") + QString::number(pid) + QLatin1String("&version=") + encodePathSegment(version)
        + QLatin1String("&status=") + encodePathSegment(statusAddress)
        + QLatin1String("&application=") + encodePathSegment(application)
        + (client > 0 ? QLatin1String("&client=") + QString::number(client) : QString());
}

std::optional<ConsumerInfo> ConsumerInfo::fromUri(const QString &uri)
{
    const QUrl url(uri, QUrl::StrictMode);
    if (!url.isValid() || url.scheme() != QLatin1String("consumer") || url.host().isEmpty())
        return std::nullopt;
    const QUrlQuery query(url.query(QUrl::FullyEncoded));
    auto item = [&](const char *key) { return query.queryItemValue(QLatin1String(key), QUrl::FullyDecoded); };
    ConsumerInfo info;
    info.host = url.host();
    info.microServiceId = item("micro-service-id");
    info.stage = item("stage");
    info.group = item("group");
    // Informational: a malformed pid reads as 0 (unknown) rather than hiding the consumer.
    bool ok = false;
    const qint64 pid = item("pid").toLongLong(&ok);
    info.pid = ok && pid > 0 ? pid : 0;
    info.version = item("version");
    info.statusAddress = item("status");
    info.application = item("application");
    info.client = qMax(0, item("client").toInt());
    if (info.microServiceId.isEmpty() || info.stage.isEmpty())
        return std::nullopt;
    return info;
}

QString ConsumerInfo::nodeName() const
{
    return encodePathSegment(toUri());
}

std::optional<ConsumerInfo> ConsumerInfo::fromNodeName(const QString &nodeName)
{
    return fromUri(QUrl::fromPercentEncoding(nodeName.toLatin1()));
}

QByteArray ConsumerInfo::toJson() const
{
    const QJsonObject o{{QStringLiteral("host"), host},
                        {QStringLiteral("pid"), pid},
                        {QStringLiteral("microServiceId"), microServiceId},
                        {QStringLiteral("stage"), stage},
                        {QStringLiteral("group"), group},
                        {QStringLiteral("version"), version},
                        {QStringLiteral("statusAddress"), statusAddress},
                        {QStringLiteral("application"), application},
                        {QStringLiteral("client"), client},
                        {QStringLiteral("uri"), toUri()}};
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

bool ConsumerInfo::operator==(const ConsumerInfo &o) const
{
    return microServiceId == o.microServiceId && stage == o.stage && group == o.group && host == o.host
        && pid == o.pid && version == o.version && statusAddress == o.statusAddress
        && application == o.application && client == o.client;
}

} // namespace Tomato
