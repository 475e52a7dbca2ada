// SPDX-License-Identifier: Apache-2.0
#include <tomato/core/endpoint.h>

namespace Tomato {

class EndpointData : public QSharedData
{
public:
    QString scheme;
    QString host;
    QString path;
    quint16 port = 0;
};

Endpoint::Endpoint() : d(new EndpointData) { }

Endpoint::Endpoint(const QString &scheme, const QString &host, quint16 port) : d(new EndpointData)
{
    d->scheme = scheme;
    d->host = host;
    d->port = port;
}

Endpoint Endpoint::unixSocket(const QString &path)
{
    Endpoint e;
    e.d->scheme = QStringLiteral("unix");
    e.d->path = path;
    return e;
}

Endpoint::Endpoint(const Endpoint &other) = default;
Endpoint &Endpoint::operator=(const Endpoint &other) = default;
Endpoint::~Endpoint() = default;

namespace {
Endpoint invalid(QString *error, const QString &why)
{
    if (error)
        *error = why;
    return Endpoint();
}

bool isSchemeName(const QString &s)
{
    if (s.isEmpty() || !s.at(0).isLetter())
        return false;
    for (const QChar c : s) {
        if (!(c.isLetterOrNumber() || c == QLatin1Char('+') || c == QLatin1Char('-') || c == QLatin1Char('.')))
            return false;
    }
    return true;
}
} // namespace

Endpoint Endpoint::fromString(const QString &text, const QString &defaultScheme, QString *error)
{
    const QString t = text.trimmed();
    QString scheme = defaultScheme;
    QString rest = t;
    const qsizetype sep = t.indexOf(QLatin1String("://"));
    if (sep >= 0) {
        scheme = t.left(sep).toLower();
        rest = t.mid(sep + 3);
        if (!isSchemeName(scheme))
            return invalid(error, QStringLiteral("'%1': '%2' is not a scheme").arg(text, t.left(sep)));
    }
    if (scheme == QLatin1String("unix")) {
        if (!rest.startsWith(QLatin1Char('/')))
            return invalid(error, QStringLiteral("'%1': a Unix socket needs an absolute path (unix:///path/to.sock)")
                                      .arg(text));
        return unixSocket(rest);
    }
    const qsizetype colon = rest.lastIndexOf(QLatin1Char(':'));
    if (colon == 0)
        return invalid(error, QStringLiteral("'%1' has no host").arg(text));
    bool ok = false;
    const uint port = colon > 0 ? rest.mid(colon + 1).toUInt(&ok) : 0;
    if (!ok || port > 65535)
        return invalid(error, QStringLiteral("'%1' is not of the form %2host:port").arg(text, sep >= 0 ? scheme + QLatin1String("://") : QString()));
    QString host = rest.left(colon);
    if (host.startsWith(QLatin1Char('[')) && host.endsWith(QLatin1Char(']')))
        host = host.mid(1, host.size() - 2);
    else if (host.contains(QLatin1Char(':')))
        return invalid(error, QStringLiteral("'%1': write an IPv6 host in brackets, [%2]:%3").arg(text, host).arg(port));
    if (host.isEmpty() || host.contains(QLatin1Char('/')))
        return invalid(error, QStringLiteral("'%1' has no host").arg(text));
    // A bracket left inside ("[[]]:2") would not survive toString(): no host has one.
    if (host.contains(QLatin1Char('[')) || host.contains(QLatin1Char(']')))
        return invalid(error, QStringLiteral("'%1': '%2' is not a host").arg(text, host));
    return Endpoint(scheme, host, quint16(port));
}

bool Endpoint::isValid() const { return !d->scheme.isEmpty(); }
QString Endpoint::scheme() const { return d->scheme; }
QString Endpoint::host() const { return d->host; }
quint16 Endpoint::port() const { return d->port; }
QString Endpoint::path() const { return d->path; }
bool Endpoint::hasPath() const { return !d->path.isEmpty(); }

QString Endpoint::authority() const
{
    if (hasPath())
        return d->path;
    const QString h = d->host.contains(QLatin1Char(':')) ? QLatin1Char('[') + d->host + QLatin1Char(']') : d->host;
    return h + QLatin1Char(':') + QString::number(d->port);
}

QString Endpoint::toString() const
{
    return isValid() ? d->scheme + QLatin1String("://") + authority() : QString();
}

bool Endpoint::operator==(const Endpoint &o) const
{
    return d->scheme == o.d->scheme && d->host == o.d->host && d->port == o.d->port && d->path == o.d->path;
}

} // namespace Tomato
