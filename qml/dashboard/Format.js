// SPDX-License-Identifier: Apache-2.0
// Formatting shared by the views: numbers as an operator reads them.
.pragma library

// 0 s, 42 s, 3 m 12 s, 2 h 5 m, 4 d 3 h: the two largest units, enough to tell apart a
// restart from a week of uptime.
function duration(seconds) {
    if (seconds === undefined || seconds === null || seconds < 0 || isNaN(seconds))
        return "—";
    const s = Math.floor(seconds);
    if (s < 60)
        return s + " s";
    if (s < 3600)
        return Math.floor(s / 60) + " m " + (s % 60) + " s";
    if (s < 86400)
        return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " m";
    return Math.floor(s / 86400) + " d " + Math.floor((s % 86400) / 3600) + " h";
}

// A time span for a chart's axis: "last 40 s", "last 5 min", "last 2 h".
function span(milliseconds) {
    const s = Math.round(milliseconds / 1000);
    if (s < 120)
        return "last " + s + " s";
    const m = Math.round(s / 60);
    if (m < 120)
        return "last " + m + " min";
    return "last " + Math.round(m / 60) + " h";
}

// 0, 0.4, 12.3, 456, 1.2 k, 35 k
function number(value) {
    if (value === undefined || value === null || isNaN(value))
        return "—";
    const a = Math.abs(value);
    if (a === 0)
        return "0";
    if (a < 10)
        return value.toFixed(1).replace(/\.0$/, "");
    if (a < 1000)
        return Math.round(value).toString();
    if (a < 10000)
        return (value / 1000).toFixed(1).replace(/\.0$/, "") + " k";
    if (a < 1e6)
        return Math.round(value / 1000) + " k";
    return (value / 1e6).toFixed(1).replace(/\.0$/, "") + " M";
}

// errorRate (0..1) as a percentage: "0 %", "0.5 %", "12 %".
function percent(rate) {
    if (rate === undefined || rate === null || isNaN(rate) || rate < 0)
        return "—";
    const p = rate * 100;
    if (p === 0)
        return "0 %";
    if (p < 0.1)
        return "< 0.1 %";
    if (p < 10)
        return p.toFixed(1).replace(/\.0$/, "") + " %";
    return Math.round(p) + " %";
}

// p99 in ms; -1 means no call was answered.
function milliseconds(ms) {
    if (ms === undefined || ms === null || isNaN(ms) || ms < 0)
        return "—";
    if (ms < 10)
        return ms.toFixed(1).replace(/\.0$/, "") + " ms";
    if (ms < 10000)
        return Math.round(ms) + " ms";
    return (ms / 1000).toFixed(1) + " s";
}

function shortHash(hash) {
    return hash ? String(hash).substring(0, 8) : "—";
}

// "QString echo(QString text, int times)"
function signature(method) {
    const args = (method.arguments || []).map(a => a.type + " " + a.name).join(", ");
    return (method.returnType || "void") + " " + method.name + "(" + args + ")";
}

// An example JSON value for an argument of a Qt/C++ type, for the call box's placeholder.
function exampleValue(type) {
    const t = String(type).replace(/^const\s+/, "").replace(/\s*&$/, "").trim();
    if (t === "QString" || t === "QByteArray" || t === "std::string")
        return "hello";
    if (t === "bool")
        return true;
    if (/^(double|float|qreal)$/.test(t))
        return 1.5;
    if (/^(q?u?int(8|16|32|64)?|q?u?int\d+_t|long|short|unsigned|qsizetype|qlonglong|qulonglong|char)$/.test(t)
            || /^(unsigned |long |short )/.test(t))
        return 1;
    if (t === "QStringList")
        return ["hello"];
    if (/^(QList|QVector|std::vector)</.test(t)) {
        const inner = t.substring(t.indexOf("<") + 1, t.lastIndexOf(">"));
        return [exampleValue(inner)];
    }
    if (/^(QVariantMap|QJsonObject|QMap|QHash|std::map)/.test(t))
        return {};
    if (t === "QDateTime")
        return "2024-01-01T12:00:00Z";
    if (t === "QDate")
        return "2024-01-01";
    if (t === "QUuid")
        return "{00000000-0000-0000-0000-000000000000}";
    if (t === "QVariant" || t === "QJsonValue")
        return null;
    return {};
}

// `["hello", 1]` for (QString, int); `[]` for none.
function exampleArguments(args) {
    return JSON.stringify((args || []).map(a => exampleValue(a.type)));
}

// "1 instance", "3 instances"
function count(n, singular, plural) {
    return n + " " + (n === 1 ? singular : plural);
}
