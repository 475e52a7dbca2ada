// SPDX-License-Identifier: Apache-2.0
#include <tomato/registry/registry.h>

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>

#include <cmath>

namespace Tomato {

Registry::~Registry() = default;

void Registry::registerConsumer(const ConsumerInfo &) { }
void Registry::unregisterConsumer(const ConsumerInfo &) { }

InstanceOverrides Registry::overrides(const QString &, const QString &) const
{
    return {};
}

namespace {
std::optional<InstanceOverride> refuse(QString *error, const QString &why)
{
    if (error)
        *error = why;
    return std::nullopt;
}

// How a JSON value shows in an error message: short, and never the whole node.
QString shown(const QJsonValue &value)
{
    const QByteArray text = QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact);
    const QString inner = QString::fromUtf8(text.mid(1, text.size() - 2));
    return inner.size() > 40 ? inner.left(40) + QLatin1String("...") : inner;
}
} // namespace

std::optional<InstanceOverride> InstanceOverride::fromJson(const QByteArray &json, QString *error)
{
    if (json.trimmed().isEmpty())
        return refuse(error, QStringLiteral("no data (not JSON)"));
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &parseError);
    if (parseError.error != QJsonParseError::NoError)
        return refuse(error,
                      QStringLiteral("not JSON: %1 at offset %2").arg(parseError.errorString()).arg(parseError.offset));
    if (!doc.isObject())
        return refuse(error, QStringLiteral("not a JSON object"));
    const QJsonObject o = doc.object();
    InstanceOverride result;
    // Other fields are ignored: a newer writer may add some.
    if (o.contains(QLatin1String("weight"))) {
        const QJsonValue w = o.value(QLatin1String("weight"));
        const double v = w.toDouble();
        if (!w.isDouble() || v != std::floor(v) || v < 1 || v > 1000)
            return refuse(error, QStringLiteral("\"weight\" must be an integer from 1 to 1000, not %1").arg(shown(w)));
        result.weight = int(v);
    }
    if (o.contains(QLatin1String("disabled"))) {
        const QJsonValue d = o.value(QLatin1String("disabled"));
        if (!d.isBool())
            return refuse(error, QStringLiteral("\"disabled\" must be true or false, not %1").arg(shown(d)));
        result.disabled = d.toBool();
    }
    return result;
}

QByteArray InstanceOverride::toJson() const
{
    QJsonObject o{{QStringLiteral("disabled"), disabled}};
    if (weight)
        o.insert(QStringLiteral("weight"), *weight);
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

} // namespace Tomato
