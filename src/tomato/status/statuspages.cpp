// SPDX-License-Identifier: Apache-2.0
#include <tomato/status/statuspages_p.h>

#include <tomato/status/metrics_p.h>

#include <QtCore/QUrl>
#include <QtCore/QUrlQuery>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>

namespace Tomato {

QByteArray HttpReply::reasonPhrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

HttpReply HttpReply::error(int status, const QString &message)
{
    HttpReply r;
    r.status = status;
    r.contentType = "application/json";
    r.body = StatusPages::toJson(QVariantMap{{QStringLiteral("error"), message}}) + '\n';
    return r;
}

// ---- JSON with a fixed member order ---------------------------------------------------------

namespace {

// Members named here come first, in this order (Tomato-RPC's invoker fields, protocol to
// group, keep theirs); the others follow by name. One order serves every page: no object has
// two of these keys in conflicting places.
int rank(const QString &key)
{
    static const QStringList order = {
        QStringLiteral("service"), QStringLiteral("method"),
        QStringLiteral("protocol"), QStringLiteral("host"), QStringLiteral("port"),
        QStringLiteral("microServiceId"), QStringLiteral("stage"), QStringLiteral("group"),
        QStringLiteral("groups"), QStringLiteral("name"), QStringLiteral("type"), QStringLiteral("signature"),
        QStringLiteral("returnType"), QStringLiteral("arguments"),
    };
    const int i = int(order.indexOf(key));
    return i < 0 ? int(order.size()) : i;
}

void writeString(QByteArray &out, const QString &s)
{
    out += '"';
    const QByteArray utf8 = s.toUtf8();
    for (unsigned char c : utf8) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
            if (c < 0x20)
                out += "\\u00" + QByteArray::number(c, 16).rightJustified(2, '0');
            else
                out += char(c);
        }
    }
    out += '"';
}

void newline(QByteArray &out, int depth)
{
    out += '\n';
    out += QByteArray(depth * 2, ' ');
}

void writeValue(QByteArray &out, const QVariant &v, int depth)
{
    switch (v.typeId()) {
    case QMetaType::UnknownType:
    case QMetaType::Nullptr:
        out += "null";
        return;
    case QMetaType::Bool:
        out += v.toBool() ? "true" : "false";
        return;
    case QMetaType::Int:
    case QMetaType::Long:
    case QMetaType::LongLong:
    case QMetaType::Short:
        out += QByteArray::number(v.toLongLong());
        return;
    case QMetaType::UInt:
    case QMetaType::ULong:
    case QMetaType::ULongLong:
    case QMetaType::UShort:
        out += QByteArray::number(v.toULongLong());
        return;
    case QMetaType::Double:
    case QMetaType::Float: {
        const double d = v.toDouble();
        if (!std::isfinite(d))
            out += "null";
        else
            out += MetricsWriter::formatNumber(d);
        return;
    }
    case QMetaType::QVariantMap: {
        const QVariantMap map = v.toMap();
        if (map.isEmpty()) {
            out += "{}";
            return;
        }
        QStringList keys = map.keys();
        std::stable_sort(keys.begin(), keys.end(), [](const QString &a, const QString &b) {
            const int ra = rank(a), rb = rank(b);
            return ra != rb ? ra < rb : a < b;
        });
        out += '{';
        bool first = true;
        for (const QString &k : std::as_const(keys)) {
            if (!first)
                out += ',';
            first = false;
            newline(out, depth + 1);
            writeString(out, k);
            out += ": ";
            writeValue(out, map.value(k), depth + 1);
        }
        newline(out, depth);
        out += '}';
        return;
    }
    case QMetaType::QVariantList:
    case QMetaType::QStringList: {
        const QVariantList list = v.toList();
        if (list.isEmpty()) {
            out += "[]";
            return;
        }
        out += '[';
        bool first = true;
        for (const QVariant &e : list) {
            if (!first)
                out += ',';
            first = false;
            newline(out, depth + 1);
            writeValue(out, e, depth + 1);
        }
        newline(out, depth);
        out += ']';
        return;
    }
    default:
        writeString(out, v.toString());
    }
}

} // namespace

QByteArray StatusPages::toJson(const QVariant &value)
{
    QByteArray out;
    writeValue(out, value, 0);
    return out;
}

// ---- the pages --------------------------------------------------------------------------------

StatusPages::StatusPages(std::shared_ptr<NodeIntrospection> node)
    : m_node(std::move(node))
{
}

namespace {
HttpReply json(const QVariant &value, int status = 200)
{
    HttpReply r;
    r.status = status;
    r.contentType = "application/json";
    r.body = StatusPages::toJson(value) + '\n';
    return r;
}

HttpReply text(const QByteArray &body, int status = 200)
{
    HttpReply r;
    r.status = status;
    r.contentType = "text/plain; charset=utf-8";
    r.body = body;
    return r;
}

} // namespace

namespace {
// One page: its path, how it is listed on the index, and how it is made.
struct Page
{
    const char *path;
    const char *listed;
    HttpReply (*render)(NodeIntrospection &node, const QUrl &url);
};

HttpReply readiness(NodeIntrospection &node, const QUrl &)
{
    const auto r = node.readiness();
    return text(NodeIntrospection::readinessName(r).toUtf8() + '\n', r == StatusSource::Readiness::Ready ? 200 : 503);
}

HttpReply metrics(NodeIntrospection &node, const QUrl &)
{
    HttpReply r;
    r.contentType = MetricsWriter::contentType();
    r.body = node.metricsText();
    return r;
}

const Page pages[] = {
    {"/tomato/status/invoker", "/tomato/status/invoker?service-id=<micro-service-id>",
     [](NodeIntrospection &node, const QUrl &url) {
         return json(node.invokers(QUrlQuery(url).queryItemValue(QStringLiteral("service-id"), QUrl::FullyDecoded)));
     }},
    {"/tomato/status/services", nullptr, [](NodeIntrospection &node, const QUrl &) { return json(node.services()); }},
    {"/tomato/status/node", nullptr, [](NodeIntrospection &node, const QUrl &) { return json(node.node()); }},
    {"/tomato/status/statistics", nullptr, [](NodeIntrospection &node, const QUrl &) { return json(node.statistics()); }},
    {"/tomato/status/ready", nullptr, &readiness},
    {"/tomato/status/live", nullptr, [](NodeIntrospection &, const QUrl &) { return text("live\n"); }},
    {"/metrics", nullptr, &metrics},
};

// The index: /tomato/status (with or without the slash) and /.
HttpReply index()
{
    QVariantList list;
    for (const Page &page : pages)
        list.append(QString::fromLatin1(page.listed ? page.listed : page.path));
    return json(QVariantMap{{QStringLiteral("pages"), list}});
}
} // namespace

HttpReply StatusPages::handle(QByteArrayView method, QByteArrayView target) const
{
    const QUrl url = QUrl::fromEncoded(QByteArray(target.data(), target.size()), QUrl::StrictMode);
    if (!url.isValid() || !url.isRelative() || !target.startsWith('/'))
        return HttpReply::error(400, QStringLiteral("malformed request target"));
    const QString path = url.path();
    const Page *page = std::find_if(std::begin(pages), std::end(pages),
                                    [&](const Page &p) { return path == QLatin1String(p.path); });
    const bool isIndex = path == QLatin1String("/tomato/status") || path == QLatin1String("/tomato/status/")
        || path == QLatin1String("/");
    if (page == std::end(pages) && !isIndex)
        return HttpReply::error(404, QStringLiteral("no page at %1 (see /tomato/status)").arg(path));
    if (method != "GET" && method != "HEAD") {
        HttpReply r = HttpReply::error(405, QStringLiteral("the status pages are read-only: GET or HEAD"));
        r.headers.append(std::pair<QByteArray, QByteArray>("Allow", "GET, HEAD"));
        return r;
    }
    return isIndex ? index() : page->render(*m_node, url);
}

} // namespace Tomato
