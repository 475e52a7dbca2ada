// SPDX-License-Identifier: Apache-2.0
// tomato-stubgen: generates client stubs for Tomato RPC interfaces, and refuses, at build
// time and with one line each, the mistakes that would otherwise surface late.
//
// Input: the JSON moc writes with --output-json for an interface header, and the header
// itself. Output: <basename>_stub.h and <basename>_stub.cpp with, for every class in the
// header that carries Q_CLASSINFO("microServiceId", ...), a class <Interface>Stub deriving
// from the interface: each Q_INVOKABLE method is overridden to call remotely and block, and
// gets a QFuture form <name>Async(..., Tomato::CallOptions). Parameter and return types are
// taken from the interface's own member function types (decltype), so the overrides match
// the declarations exactly however they were spelled.
//
// Mistakes are reported as `<header>:<line>: error: <what> : <what to do>`, the way compilers
// do, so IDEs jump to the line; the exit code is then 1 and nothing is written.
#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>
#include <QtCore/QFile>
#include <QtCore/QFileInfo>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QRegularExpression>
#include <QtCore/QSaveFile>
#include <QtCore/QSet>
#include <QtCore/QTextStream>

#include <algorithm>
#include <cstdio>

namespace {

struct Method
{
    QString name;
    int argc = 0;
    QList<int> shorterForms; // argument counts of moc's default-argument clones
    bool isConst = false;
    QString returnType;  // as moc spells them, for messages
    QStringList argumentTypes;
};

struct Interface
{
    QString qualifiedName; // e.g. Sample::EchoService
    QStringList namespaces;
    QString name;
    QList<Method> methods;
    QList<QJsonObject> declarations; // moc's description of each method, clones included
    QList<QJsonObject> signalDeclarations; // public signals: remote signals (docs/SIGNALS.md)
};

struct Diagnostic
{
    int line = 0; // 0: the whole file
    QString message;
};

// ---- the header as text --------------------------------------------------------------------

// What the header's text says that moc's JSON does not: where things are, pure virtual
// methods moc cannot see (no Q_INVOKABLE), classes moc ignores (no Q_OBJECT), whether a
// method is declared once or overloaded. A light scan, not a C++ parser: comments, string
// and character literals are blanked first (positions kept), so they never match; class
// bodies are split into member declarations at the top level, so the code inside inline
// function bodies is never taken for a declaration.
class HeaderText
{
public:
    struct Member
    {
        QString name;     // of a function; empty for anything else
        int line = 0;     // of the name
        QString access;   // public, protected, private
        QString text;     // the declaration without leading Qt macros (Q_INVOKABLE kept)
        bool isVirtual = false, isPure = false, isInvokable = false, isConst = false;
    };
    struct Class
    {
        QString name;
        QString qualifiedName; // with the enclosing namespaces and classes
        int line = 0;
        qsizetype begin = 0, end = 0; // the body, between its braces
        bool hasObjectMacro = false, hasGadgetMacro = false, hasServiceId = false;
        QList<Member> members;
    };
    struct Enum
    {
        QString name, qualifiedName;
        int line = 0;
    };

    explicit HeaderText(const QString &text) : m_raw(text), m_code(blankLiterals(text))
    {
        // Scopes first, so every class and enum knows where it sits.
        static const QRegularExpression scopeHead(QStringLiteral(
            "\\b(namespace)\\s+([\\w:]+)\\s*\\{|\\b(class|struct)\\s+(?:[A-Z_][A-Z0-9_]*\\s+)*(\\w+)\\s*(?:final\\s*)?(?::[^;{]*)?\\{"));
        for (auto it = scopeHead.globalMatch(m_code); it.hasNext();) {
            const auto m = it.next();
            const qsizetype begin = m.capturedEnd();
            const qsizetype end = closingBrace(begin);
            if (!m.captured(1).isEmpty()) {
                m_namespaces.append({m.captured(2), begin, end});
                continue;
            }
            Class c;
            c.name = m.captured(4);
            c.line = lineOf(m.capturedStart(4));
            c.begin = begin;
            c.end = end;
            const QString body = m_code.mid(c.begin, c.end - c.begin);
            c.hasObjectMacro = body.contains(QRegularExpression(QStringLiteral("\\bQ_OBJECT\\b")));
            c.hasGadgetMacro = body.contains(QRegularExpression(QStringLiteral("\\bQ_GADGET\\b")));
            static const QRegularExpression classInfo(QStringLiteral("\\bQ_CLASSINFO\\s*\\(\\s*\"\\s*\""));
            for (auto ci = classInfo.globalMatch(body); ci.hasNext();) {
                // The literal is blanked in the code; read it from the raw text.
                if (m_raw.mid(c.begin + ci.next().capturedStart(), 40).contains(QLatin1String("\"microServiceId\"")))
                    c.hasServiceId = true;
            }
            c.members = scanMembers(c.begin, c.end, m.captured(3) == QLatin1String("class") ? "private" : "public",
                                    c.name);
            m_classes.append(c);
        }
        for (Class &c : m_classes)
            c.qualifiedName = qualify(c.name, c.begin - 1);
        static const QRegularExpression enumHead(QStringLiteral("\\benum\\s+(?:class\\s+|struct\\s+)?(\\w+)[^;{]*\\{"));
        for (auto it = enumHead.globalMatch(m_code); it.hasNext();) {
            const auto m = it.next();
            m_enums.append({m.captured(1), qualify(m.captured(1), m.capturedStart()), lineOf(m.capturedStart(1))});
        }
    }

    const QList<Class> &classes() const { return m_classes; }
    // By qualified name ("Geo::Geometry"); else by the last part, when only one class has it.
    const Class *find(const QString &name) const { return findIn(m_classes, name); }
    const Enum *findEnum(const QString &name) const { return findIn(m_enums, name); }
    int lineOf(qsizetype offset) const { return int(m_code.left(offset).count(QLatin1Char('\n'))) + 1; }

    static QList<const Member *> functions(const Class &c, const QString &name)
    {
        QList<const Member *> out;
        for (const Member &m : c.members) {
            if (m.name == name)
                out << &m;
        }
        return out;
    }

private:
    struct Scope
    {
        QString name;
        qsizetype begin, end;
    };

    template<typename T>
    static const T *findIn(const QList<T> &list, const QString &name)
    {
        for (const T &t : list) {
            if (t.qualifiedName == name)
                return &t;
        }
        const QString last = name.section(QLatin1String("::"), -1);
        const T *found = nullptr;
        for (const T &t : list) {
            if (t.name == last) {
                if (found)
                    return nullptr; // ambiguous: say nothing rather than something wrong
                found = &t;
            }
        }
        return found;
    }

    // The enclosing namespaces and classes of something at `offset`, outermost first.
    QString qualify(const QString &name, qsizetype offset) const
    {
        QList<Scope> enclosing;
        for (const Scope &n : m_namespaces) {
            if (n.begin <= offset && offset < n.end)
                enclosing.append(n);
        }
        for (const Class &c : m_classes) {
            if (c.begin <= offset && offset < c.end)
                enclosing.append({c.name, c.begin, c.end});
        }
        std::sort(enclosing.begin(), enclosing.end(), [](const Scope &a, const Scope &b) { return a.begin < b.begin; });
        QStringList parts;
        for (const Scope &e : enclosing)
            parts << e.name;
        parts << name;
        return parts.join(QLatin1String("::"));
    }

    // Splits a class body into its top-level declarations: at ';', at a body's closing brace,
    // and at access labels. Braces inside parentheses (`= {}`) belong to the declaration.
    QList<Member> scanMembers(qsizetype begin, qsizetype end, const char *defaultAccess, const QString &className) const
    {
        QList<Member> out;
        QString access = QLatin1String(defaultAccess);
        qsizetype start = begin;
        int parens = 0;
        auto finish = [&](qsizetype to) {
            Member m = describe(start, to, access, className);
            if (!m.name.isEmpty())
                out.append(m);
        };
        for (qsizetype i = begin; i < end; ++i) {
            const QChar ch = m_code.at(i);
            if (ch == QLatin1Char('('))
                ++parens;
            else if (ch == QLatin1Char(')'))
                --parens;
            else if (parens > 0)
                continue;
            else if (ch == QLatin1Char(';')) {
                finish(i);
                start = i + 1;
            } else if (ch == QLatin1Char('{')) {
                finish(i); // a function with its body, a nested type, or `int x{0}`
                i = closingBrace(i + 1);
                start = i + 1;
            } else if (ch == QLatin1Char(':') && m_code.mid(i + 1, 1) != QLatin1String(":")
                       && (i == begin || m_code.at(i - 1) != QLatin1Char(':'))) {
                // An access label ends what came before it (Qt macros without ';' only).
                static const QRegularExpression label(QStringLiteral(
                    "\\b(?:(public|protected|private)(?:\\s+(?:Q_SLOTS|slots))?|(Q_SIGNALS|signals))\\s*$"));
                const auto m = label.match(m_code.mid(start, i - start));
                if (m.hasMatch()) {
                    access = m.captured(1).isEmpty() ? QStringLiteral("signal") : m.captured(1);
                    start = i + 1;
                }
            }
        }
        return out;
    }

    // A declaration from `from` to `to`: a function's name, line and qualifiers.
    Member describe(qsizetype from, qsizetype to, const QString &access, const QString &className) const
    {
        Member m;
        m.access = access;
        m.text = withoutQtMacros(m_code.mid(from, to - from), true);
        const qsizetype open = m.text.indexOf(QLatin1Char('('));
        if (open < 0)
            return m;
        static const QRegularExpression nameBefore(QStringLiteral("(~?\\b\\w+)\\s*$"));
        const auto name = nameBefore.match(m.text.left(open));
        if (!name.hasMatch() || name.captured(1) == className || name.captured(1).startsWith(QLatin1Char('~'))
            || name.captured(1).startsWith(QLatin1String("Q_")))
            return m; // constructor, destructor, a Qt macro
        m.name = name.captured(1);
        // Where the name is in the file: search from the declaration's start in the code.
        const qsizetype at = m_code.indexOf(QRegularExpression(QStringLiteral("\\b%1\\s*\\(").arg(m.name)), from);
        m.line = lineOf(at >= 0 && at < to ? at : from);
        m.isVirtual = m.text.contains(QRegularExpression(QStringLiteral("\\bvirtual\\b")));
        m.isInvokable = m.text.contains(QRegularExpression(QStringLiteral("\\bQ_INVOKABLE\\b")));
        // After the parameter list: const, override, = 0.
        int depth = 0;
        qsizetype close = -1;
        for (qsizetype i = open; i < m.text.size(); ++i) {
            if (m.text.at(i) == QLatin1Char('('))
                ++depth;
            else if (m.text.at(i) == QLatin1Char(')') && --depth == 0) {
                close = i;
                break;
            }
        }
        const QString tail = close < 0 ? QString() : m.text.mid(close + 1);
        m.isConst = tail.contains(QRegularExpression(QStringLiteral("^\\s*const\\b")));
        m.isPure = tail.contains(QRegularExpression(QStringLiteral("=\\s*0\\s*$")));
        return m;
    }

    // Drops the Qt macros a declaration may start with (Q_OBJECT, Q_CLASSINFO(...),
    // Q_PROPERTY(...), Q_ENUM(...) carry no ';'); Q_INVOKABLE stays when `keepInvokable`.
    static QString withoutQtMacros(QString text, bool keepInvokable)
    {
        static const QRegularExpression macro(QStringLiteral("^\\s*(Q_[A-Z_]+)\\s*(\\((?:[^()]|\\([^()]*\\))*\\))?"));
        text = text.trimmed();
        for (auto m = macro.match(text); m.hasMatch(); m = macro.match(text)) {
            if (keepInvokable && m.captured(1) == QLatin1String("Q_INVOKABLE"))
                break;
            text = text.mid(m.capturedEnd()).trimmed();
        }
        return text;
    }

    static QString blankLiterals(QString s)
    {
        // Line and block comments, string and character literals become blanks (newlines
        // kept). A quote after a digit or letter is a digit separator (1'000), not a literal.
        auto blankQuoted = [&s](qsizetype &i, QChar quote) {
            for (++i; i < s.size() && s[i] != quote && s[i] != QLatin1Char('\n'); ++i) {
                if (s[i] == QLatin1Char('\\') && i + 1 < s.size())
                    s[i++] = QLatin1Char(' ');
                s[i] = QLatin1Char(' ');
            }
        };
        for (qsizetype i = 0; i < s.size(); ++i) {
            if (s[i] == QLatin1Char('/') && i + 1 < s.size() && s[i + 1] == QLatin1Char('/')) {
                for (; i < s.size() && s[i] != QLatin1Char('\n'); ++i)
                    s[i] = QLatin1Char(' ');
            } else if (s[i] == QLatin1Char('/') && i + 1 < s.size() && s[i + 1] == QLatin1Char('*')) {
                for (; i < s.size() && !(s[i] == QLatin1Char('*') && i + 1 < s.size() && s[i + 1] == QLatin1Char('/')); ++i) {
                    if (s[i] != QLatin1Char('\n'))
                        s[i] = QLatin1Char(' ');
                }
                if (i + 1 < s.size())
                    s[i] = s[i + 1] = QLatin1Char(' ');
            } else if (s[i] == QLatin1Char('"')) {
                blankQuoted(i, QLatin1Char('"'));
            } else if (s[i] == QLatin1Char('\'') && !(i > 0 && s[i - 1].isLetterOrNumber())) {
                blankQuoted(i, QLatin1Char('\''));
            }
        }
        return s;
    }

    qsizetype closingBrace(qsizetype from) const
    {
        int depth = 1;
        for (qsizetype i = from; i < m_code.size(); ++i) {
            if (m_code[i] == QLatin1Char('{'))
                ++depth;
            else if (m_code[i] == QLatin1Char('}') && --depth == 0)
                return i;
        }
        return m_code.size();
    }

    QString m_raw;
    QString m_code;
    QList<Scope> m_namespaces;
    QList<Class> m_classes;
    QList<Enum> m_enums;
};

// ---- checks ------------------------------------------------------------------------------

// Names QObject declares as meta-methods: a remote method of that name would be mistaken
// for QObject's own (and the server refuses it).
const QSet<QString> &reservedNames()
{
    static const QSet<QString> names{QStringLiteral("deleteLater"), QStringLiteral("destroyed"),
                                     QStringLiteral("objectNameChanged"), QStringLiteral("_q_reregisterTimers")};
    return names;
}

// Types the marshaller takes by name, besides enums, Q_GADGETs and containers of these.
bool isKnownValueType(const QString &t)
{
    static const QSet<QString> known{
        QStringLiteral("bool"), QStringLiteral("char"), QStringLiteral("signed char"), QStringLiteral("uchar"),
        QStringLiteral("unsigned char"), QStringLiteral("short"), QStringLiteral("ushort"), QStringLiteral("int"),
        QStringLiteral("uint"), QStringLiteral("long"), QStringLiteral("ulong"), QStringLiteral("qlonglong"),
        QStringLiteral("qulonglong"), QStringLiteral("qint8"), QStringLiteral("quint8"), QStringLiteral("qint16"),
        QStringLiteral("quint16"), QStringLiteral("qint32"), QStringLiteral("quint32"), QStringLiteral("qint64"),
        QStringLiteral("quint64"), QStringLiteral("float"), QStringLiteral("double"), QStringLiteral("qreal"),
        QStringLiteral("QString"), QStringLiteral("QByteArray"), QStringLiteral("QDateTime"), QStringLiteral("QUuid"),
        QStringLiteral("QVariant"), QStringLiteral("QVariantMap"), QStringLiteral("QVariantList"),
        QStringLiteral("QVariantHash"), QStringLiteral("QStringList"), QStringLiteral("QByteArrayList")};
    return known.contains(t);
}

// The type names inside a type: "QMap<QString,QList<Foo>>" -> QMap, QString, QList, Foo.
QStringList namesIn(const QString &type)
{
    QStringList out;
    for (QString part : type.split(QRegularExpression(QStringLiteral("[<>,]")), Qt::SkipEmptyParts)) {
        part = part.trimmed();
        part.remove(QRegularExpression(QStringLiteral("^const\\s+|\\s*&$")));
        if (!part.isEmpty())
            out << part;
    }
    return out;
}

class Checker
{
public:
    Checker(const QJsonObject &root, const HeaderText &header) : m_header(header)
    {
        // Enums (with Q_ENUM) and gadgets moc saw in this header may travel.
        for (const QJsonValue &cv : root.value(QLatin1String("classes")).toArray()) {
            const QJsonObject cls = cv.toObject();
            if (cls.value(QLatin1String("gadget")).toBool()) {
                m_gadgets << cls.value(QLatin1String("className")).toString()
                          << cls.value(QLatin1String("qualifiedClassName")).toString();
            }
            for (const QJsonValue &e : cls.value(QLatin1String("enums")).toArray())
                m_enums << e.toObject().value(QLatin1String("name")).toString();
        }
    }

    QList<Diagnostic> run(const QList<Interface> &interfaces)
    {
        checkClassesMocIgnored();
        if (interfaces.isEmpty())
            noInterface();
        for (const Interface &i : interfaces)
            checkInterface(i);
        std::stable_sort(m_diagnostics.begin(), m_diagnostics.end(),
                         [](const Diagnostic &a, const Diagnostic &b) { return a.line < b.line; });
        return m_diagnostics;
    }

private:
    void add(int line, const QString &message) { m_diagnostics.append({line, message}); }

    // A class that looks like an interface but has no Q_OBJECT: moc skips it, silently.
    void checkClassesMocIgnored()
    {
        for (const HeaderText::Class &c : m_header.classes()) {
            if (c.hasServiceId && !c.hasObjectMacro)
                add(c.line, QStringLiteral("class %1 has Q_CLASSINFO(\"microServiceId\") but no Q_OBJECT: add Q_OBJECT "
                                           "as the first line of the class").arg(c.qualifiedName));
        }
    }

    void noInterface()
    {
        for (const HeaderText::Class &c : m_header.classes()) {
            const bool hasPureVirtual =
                std::any_of(c.members.cbegin(), c.members.cend(), [](const HeaderText::Member &m) { return m.isPure; });
            if (c.hasObjectMacro && !c.hasServiceId && hasPureVirtual) {
                add(c.line, QStringLiteral("class %1 has no Q_CLASSINFO(\"microServiceId\", \"...\"): add it to make it an "
                                           "interface (clients find the service by that id)").arg(c.qualifiedName));
                return;
            }
        }
        if (m_diagnostics.isEmpty())
            add(0, QStringLiteral("no interface here: an interface is a QObject class with Q_OBJECT, "
                                  "Q_CLASSINFO(\"microServiceId\", \"...\") and Q_INVOKABLE pure virtual methods"));
    }

    void checkInterface(const Interface &i)
    {
        const HeaderText::Class *c = m_header.find(i.qualifiedName);
        if (c)
            checkDeclarations(i, *c);
        for (const QJsonObject &m : i.declarations) {
            const QString name = m.value(QLatin1String("name")).toString();
            const QList<const HeaderText::Member *> declared = c ? HeaderText::functions(*c, name) : QList<const HeaderText::Member *>();
            const int line = declared.isEmpty() ? (c ? c->line : 0) : declared.first()->line;
            if (reservedNames().contains(name))
                add(line, QStringLiteral("%1::%2: the name is QObject's own (deleteLater, destroyed, objectNameChanged): "
                                         "rename the method").arg(i.qualifiedName, name));
            checkType(i, name, line, QStringLiteral("the return type"), m.value(QLatin1String("returnType")).toString());
            const QJsonArray arguments = m.value(QLatin1String("arguments")).toArray();
            for (int a = 0; a < arguments.size(); ++a)
                checkType(i, name, line, QStringLiteral("parameter %1").arg(a + 1),
                          arguments.at(a).toObject().value(QLatin1String("type")).toString());
        }
        // A remote signal's arguments travel like a method's (docs/SIGNALS.md).
        for (const QJsonObject &sig : i.signalDeclarations) {
            const QString name = sig.value(QLatin1String("name")).toString();
            const QList<const HeaderText::Member *> declared = c ? HeaderText::functions(*c, name) : QList<const HeaderText::Member *>();
            const int line = declared.isEmpty() ? (c ? c->line : 0) : declared.first()->line;
            const QJsonArray arguments = sig.value(QLatin1String("arguments")).toArray();
            for (int a = 0; a < arguments.size(); ++a)
                checkType(i, name, line, QStringLiteral("signal parameter %1").arg(a + 1),
                          arguments.at(a).toObject().value(QLatin1String("type")).toString());
        }
    }

    // What only the text shows: methods moc cannot see or the stub cannot override, and
    // overloads (moc lists a default argument's shorter form like an overload).
    void checkDeclarations(const Interface &i, const HeaderText::Class &c)
    {
        QSet<QString> reported;
        for (const HeaderText::Member &m : c.members) {
            const QString where = i.qualifiedName + QLatin1String("::") + m.name;
            if (m.isPure && m.access != QLatin1String("public"))
                add(m.line, QStringLiteral("%1 is pure virtual but %2: the stub implements public Q_INVOKABLE methods "
                                           "only; make it public").arg(where, m.access));
            else if (m.isPure && !m.isInvokable)
                add(m.line, QStringLiteral("%1 is pure virtual but not Q_INVOKABLE: add Q_INVOKABLE (moc does not see it, "
                                           "so the stub could not implement it)").arg(where));
            if (m.isInvokable && !m.isVirtual)
                add(m.line, QStringLiteral("%1 is Q_INVOKABLE but not virtual: declare it 'virtual ... = 0' (the stub "
                                           "and the implementation override it)").arg(where));
            const QList<const HeaderText::Member *> same = HeaderText::functions(c, m.name);
            if (same.size() > 1 && !reported.contains(m.name)
                && std::any_of(same.cbegin(), same.cend(), [](const HeaderText::Member *d) { return d->isInvokable; })) {
                reported.insert(m.name);
                QStringList forms;
                for (const HeaderText::Member *d : same)
                    forms << m.name + d->text.mid(d->text.indexOf(QLatin1Char('('))).section(QLatin1Char(')'), 0, 0)
                                          .simplified() + QLatin1Char(')');
                add(same.at(1)->line, QStringLiteral("%1 is overloaded (%2): remote methods need unique names; rename one")
                                          .arg(where, forms.join(QLatin1String(", "))));
            }
        }
    }

    void checkType(const Interface &i, const QString &method, int line, const QString &what, const QString &type)
    {
        if (type.isEmpty() || type == QLatin1String("void"))
            return;
        const QString where = QStringLiteral("%1::%2: %3 '%4'").arg(i.qualifiedName, method, what, type);
        if (namesIn(type).contains(QLatin1String("QObject*")) || namesIn(type).contains(QLatin1String("QObject"))) {
            add(line, QStringLiteral("%1: a QObject cannot travel (it stays on its machine); pass a Q_GADGET value "
                                     "with the data instead").arg(where));
            return;
        }
        if (type.contains(QLatin1Char('*'))) {
            add(line, QStringLiteral("%1 is a pointer: a remote call carries values, not addresses; use a value or a "
                                     "const reference (an object stays on its machine)").arg(where));
            return;
        }
        const bool isReturn = what == QLatin1String("the return type");
        if (!isReturn && namesIn(type).contains(QLatin1String("QFuture"))) {
            add(line, QStringLiteral("%1: a QFuture cannot travel as an argument; pass the value it will hold (a "
                                     "method may return QFuture<T>: docs/ASYNC.md)").arg(where));
            return;
        }
        for (const QString &name : namesIn(type)) {
            const QString shortName = name.section(QLatin1String("::"), -1);
            if (isReturn && name == QLatin1String("QFuture") && type.startsWith(QLatin1String("QFuture<")))
                continue; // an asynchronous method: what travels is its T
            if (isKnownValueType(name) || m_gadgets.contains(name) || m_enums.contains(shortName)
                || QStringList{QStringLiteral("QList"), QStringLiteral("QVector"), QStringLiteral("QMap"),
                               QStringLiteral("QHash")}.contains(name))
                continue;
            const QString prefix = where + (name == type ? QString() : QStringLiteral(": ") + shortName);
            // A type of this header that cannot travel: we can tell for sure. Types of other
            // headers are checked when the stub is compiled (static_assert) and at publish().
            if (const HeaderText::Enum *e = m_header.findEnum(name)) {
                add(e->line, QStringLiteral("%1 is an enum without Q_ENUM: add Q_ENUM(%2) after it (Q_ENUM_NS in a "
                                            "namespace with Q_NAMESPACE)").arg(prefix, shortName));
            } else if (const HeaderText::Class *c = m_header.find(name); c && !c->hasGadgetMacro && !c->hasObjectMacro) {
                add(c->line, QStringLiteral("%1 is neither a value type Tomato marshals nor a Q_GADGET: add Q_GADGET "
                                            "and a Q_PROPERTY per field to %2").arg(prefix, shortName));
            }
        }
    }

    const HeaderText &m_header;
    QSet<QString> m_gadgets;
    QSet<QString> m_enums;
    QList<Diagnostic> m_diagnostics;
};

// ---- reading -------------------------------------------------------------------------------

QList<Interface> readInterfaces(const QJsonObject &root, const HeaderText &header)
{
    QList<Interface> result;
    for (const QJsonValue &cv : root.value(QLatin1String("classes")).toArray()) {
        const QJsonObject cls = cv.toObject();
        bool isInterface = false;
        for (const QJsonValue &ci : cls.value(QLatin1String("classInfos")).toArray()) {
            if (ci.toObject().value(QLatin1String("name")).toString() == QLatin1String("microServiceId"))
                isInterface = true;
        }
        if (!isInterface || !cls.value(QLatin1String("object")).toBool())
            continue;
        Interface iface;
        iface.qualifiedName = cls.value(QLatin1String("qualifiedClassName")).toString();
        iface.namespaces = iface.qualifiedName.split(QLatin1String("::"));
        iface.name = iface.namespaces.takeLast();
        const HeaderText::Class *text = header.find(iface.qualifiedName);
        for (const QJsonValue &sv : cls.value(QLatin1String("signals")).toArray()) {
            if (sv.toObject().value(QLatin1String("access")).toString() == QLatin1String("public"))
                iface.signalDeclarations.append(sv.toObject());
        }
        QHash<QString, int> byName;
        for (const char *section : {"methods", "slots"}) {
            for (const QJsonValue &mv : cls.value(QLatin1String(section)).toArray()) {
                const QJsonObject m = mv.toObject();
                if (m.value(QLatin1String("access")).toString() != QLatin1String("public"))
                    continue;
                iface.declarations.append(m);
                Method method;
                method.name = m.value(QLatin1String("name")).toString();
                method.argc = int(m.value(QLatin1String("arguments")).toArray().size());
                // moc lists a clone without each defaulted argument: keep the full form.
                if (byName.contains(method.name)) {
                    Method &known = iface.methods[byName.value(method.name)];
                    known.shorterForms.append(qMin(known.argc, method.argc));
                    known.argc = qMax(known.argc, method.argc);
                    continue;
                }
                const QList<const HeaderText::Member *> declared =
                    text ? HeaderText::functions(*text, method.name) : QList<const HeaderText::Member *>();
                method.isConst = !declared.isEmpty() && declared.first()->isConst;
                method.returnType = m.value(QLatin1String("returnType")).toString();
                for (const QJsonValue &a : m.value(QLatin1String("arguments")).toArray())
                    method.argumentTypes << a.toObject().value(QLatin1String("type")).toString();
                byName.insert(method.name, int(iface.methods.size()));
                iface.methods.append(method);
            }
        }
        result.append(iface);
    }
    return result;
}

// ---- writing -------------------------------------------------------------------------------

struct Output
{
    QString interfaceInclude; // as the stub header includes the interface: "echoservice.h"
    QString exportMacro;      // put on each stub class; empty: none
    QString exportHeader;     // included for the macro; empty: none
};

QString memberPointer(const Interface &iface, const Method &m)
{
    return QStringLiteral("decltype(&::%1::%2)").arg(iface.qualifiedName, m.name);
}

QString parameterList(const Interface &iface, const Method &m, bool withOptions, bool withDefault, int argc = -1)
{
    QStringList params;
    for (int i = 0; i < (argc < 0 ? m.argc : argc); ++i)
        params << QStringLiteral("Tomato::detail::ArgOf<%1, %2> a%2").arg(memberPointer(iface, m)).arg(i);
    if (withOptions)
        params << (withDefault ? QStringLiteral("const Tomato::CallOptions &options = {}")
                               : QStringLiteral("const Tomato::CallOptions &options"));
    return params.join(QLatin1String(", "));
}

QString argumentList(const Method &m, int argc = -1)
{
    QStringList args;
    for (int i = 0; i < (argc < 0 ? m.argc : argc); ++i)
        args << QStringLiteral("a%1").arg(i);
    return args.join(QLatin1String(", "));
}

// Compile-time checks of every parameter and result type, with a message that says what to
// do: types from other headers cannot be judged from the header's text alone.
void writeTypeChecks(QTextStream &out, const Interface &iface, const Method &m)
{
    const QString mp = memberPointer(iface, m);
    const QString where = iface.qualifiedName + QLatin1String("::") + m.name;
    out << "    static_assert(Tomato::IsRemoteType<Tomato::detail::ResultOf<" << mp
        << ">>::value,\n                  \"" << where << ": the return type '" << m.returnType
        << "' is neither a value type Tomato marshals nor a Q_GADGET: add Q_GADGET "
           "(docs/SERIALIZATION.md lists the types)\");\n";
    for (int i = 0; i < m.argc; ++i) {
        out << "    static_assert(Tomato::IsRemoteType<std::decay_t<Tomato::detail::ArgOf<" << mp << ", " << i
            << ">>>::value,\n                  \"" << where << ": parameter " << (i + 1) << " '"
            << m.argumentTypes.value(i) << "' is neither a value type Tomato marshals nor a Q_GADGET: add Q_GADGET (docs/SERIALIZATION.md lists "
               "the types)\");\n";
    }
}

void writeHeader(QTextStream &out, const QList<Interface> &interfaces, const QString &headerName, const Output &o)
{
    out << "// Generated by tomato-stubgen from " << headerName << ". Do not edit.\n#pragma once\n\n#include \""
        << o.interfaceInclude << "\"\n";
    if (!o.exportHeader.isEmpty())
        out << "#include \"" << o.exportHeader << "\"\n";
    out << "#include <tomato/client/stub.h>\n\n#include <chrono>\n#include <memory>\n#include <type_traits>\n\n";
    const QString exported = o.exportMacro.isEmpty() ? QString() : o.exportMacro + QLatin1Char(' ');
    for (const Interface &iface : interfaces) {
        for (const QString &ns : iface.namespaces)
            out << "namespace " << ns << " {\n";
        out << "\n// Client stub of " << iface.qualifiedName
            << ": every method is a remote call. Thread-safe: call from any thread.\n"
            << "class " << exported << iface.name << "Stub final : public " << iface.name << "\n{\npublic:\n"
            << "    explicit " << iface.name << "Stub(std::shared_ptr<Tomato::Channel> channel,\n"
            << "        const Tomato::StubOptions &options = {}, QObject *parent = nullptr);\n\n"
            << "    Tomato::StubCore &stubCore() { return m_core; }\n"
            << "    void setTimeout(std::chrono::milliseconds timeout) { m_core.setTimeout(timeout); }\n"
            << "    std::chrono::milliseconds timeout() const { return m_core.timeout(); }\n\n";
        for (const Method &m : iface.methods) {
            const QString mp = memberPointer(iface, m);
            out << "    Tomato::detail::ReturnOf<" << mp << "> " << m.name << "(" << parameterList(iface, m, false, false)
                << ")" << (m.isConst ? " const" : "") << " override;\n";
            out << "    Tomato::detail::FutureOf<" << mp << "> " << m.name << "Async(" << parameterList(iface, m, true, true)
                << ") const;\n";
            // Calls that leave defaulted arguments out: the interface's declaration supplies
            // the defaults, virtual dispatch brings the call back to the override above.
            for (int argc : m.shorterForms) {
                out << "    Tomato::detail::ReturnOf<" << mp << "> " << m.name << "("
                    << parameterList(iface, m, false, false, argc) << ")" << (m.isConst ? " const" : "")
                    << "\n    {\n        return static_cast<" << (m.isConst ? "const " : "") << iface.name << " &>(*this)."
                    << m.name << "(" << argumentList(m, argc) << ");\n    }\n";
            }
        }
        if (!iface.signalDeclarations.isEmpty()) {
            // Remote signals: a receiver connected to one of the interface's signals
            // subscribes to it on the server(s); the last one gone unsubscribes.
            out << "    // Reports on the remote-signal subscriptions (docs/SIGNALS.md).\n"
                << "    Tomato::RemoteSignalStatus *signalStatus() const { return m_core.signalStatus(); }\n\n"
                << "protected:\n"
                << "    void connectNotify(const QMetaMethod &signal) override;\n"
                << "    void disconnectNotify(const QMetaMethod &signal) override;\n";
        }
        out << "\nprivate:\n";
        for (const Method &m : iface.methods)
            writeTypeChecks(out, iface, m);
        out << "    Tomato::StubCore m_core;\n};\n\n";
        for (int i = int(iface.namespaces.size()) - 1; i >= 0; --i)
            out << "} // namespace " << iface.namespaces.at(i) << "\n";
        out << "\ntemplate<>\nstruct Tomato::StubFor<::" << iface.qualifiedName << ">\n{\n"
            << "    using Type = ::" << iface.qualifiedName << "Stub;\n};\n\n";
    }
}

void writeSource(QTextStream &out, const QList<Interface> &interfaces, const QString &stubHeader)
{
    out << "// Generated by tomato-stubgen. Do not edit.\n#include \"" << stubHeader << "\"\n\n";
    for (const Interface &iface : interfaces) {
        for (const QString &ns : iface.namespaces)
            out << "namespace " << ns << " {\n";
        const QString stub = iface.name + QLatin1String("Stub");
        QStringList names;
        for (const Method &m : iface.methods)
            names << QLatin1Char('"') + m.name + QLatin1Char('"');
        out << "\n" << stub << "::" << stub << "(std::shared_ptr<Tomato::Channel> channel,\n"
            << "        const Tomato::StubOptions &options, QObject *parent)\n"
            << "    : m_core(std::move(channel), ::" << iface.qualifiedName << "::staticMetaObject, {"
            << names.join(QLatin1String(", ")) << "}, options)\n{\n    setParent(parent);\n}\n\n";
        for (int slot = 0; slot < iface.methods.size(); ++slot) {
            const Method &m = iface.methods.at(slot);
            const QString mp = memberPointer(iface, m);
            out << "Tomato::detail::ReturnOf<" << mp << "> " << stub << "::" << m.name << "("
                << parameterList(iface, m, false, false) << ")" << (m.isConst ? " const" : "")
                << "\n{\n    return Tomato::detail::complete<Tomato::detail::ReturnOf<" << mp << ">>(" << m.name
                << "Async(" << argumentList(m) << "));\n}\n\n";
            const QString args = argumentList(m);
            out << "Tomato::detail::FutureOf<" << mp << "> " << stub << "::" << m.name << "Async("
                << parameterList(iface, m, true, false) << ") const\n{\n"
                << "    return m_core.call<Tomato::detail::ResultOf<" << mp << ">>(" << slot << ", options"
                << (args.isEmpty() ? QString() : QLatin1String(", ") + args) << ");\n}\n\n";
        }
        if (!iface.signalDeclarations.isEmpty()) {
            for (const char *notify : {"connectNotify", "disconnectNotify"})
                out << "void " << stub << "::" << notify << "(const QMetaMethod &)\n{\n"
                    << "    // receivers(), not isSignalConnected(): QML's receivers leave the latter true for good.\n"
                    << "    m_core.updateSubscriptions(this, [this](const QMetaMethod &s) {\n"
                    << "        return receivers((QByteArray(\"2\") + s.methodSignature()).constData()) > 0;\n    });\n}\n\n";
        }
        for (int i = int(iface.namespaces.size()) - 1; i >= 0; --i)
            out << "} // namespace " << iface.namespaces.at(i) << "\n";
        out << "\n";
    }
}

bool write(const QString &path, const std::function<void(QTextStream &)> &body, QString *error)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        *error = QStringLiteral("cannot write %1: %2").arg(path, file.errorString());
        return false;
    }
    QTextStream out(&file);
    body(out);
    out.flush();
    if (!file.commit()) {
        *error = QStringLiteral("cannot write %1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

int failWith(const QString &message, int code = 1)
{
    std::fprintf(stderr, "%s\n", qPrintable(message));
    return code;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    app.setApplicationVersion(QStringLiteral(TOMATO_VERSION_STRING));
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Generates Tomato RPC client stubs from moc JSON "
                                                    "(tomato_add_stubs() runs it; docs/STUBS.md)."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addOption({QStringLiteral("json"), QStringLiteral("moc --output-json file"), QStringLiteral("file")});
    parser.addOption({QStringLiteral("header"), QStringLiteral("the interface header"), QStringLiteral("file")});
    parser.addOption({QStringLiteral("output-dir"), QStringLiteral("where to write"), QStringLiteral("dir")});
    parser.addOption({QStringLiteral("basename"), QStringLiteral("output base name"), QStringLiteral("name")});
    parser.addOption({QStringLiteral("include"),
                      QStringLiteral("how the stub header includes the interface (default: its file name)"),
                      QStringLiteral("path")});
    parser.addOption({QStringLiteral("export-macro"), QStringLiteral("macro put on each stub class"),
                      QStringLiteral("name")});
    parser.addOption({QStringLiteral("export-header"), QStringLiteral("header that defines the export macro"),
                      QStringLiteral("path")});
    if (!parser.parse(app.arguments()))
        return failWith(QStringLiteral("tomato-stubgen: ") + parser.errorText() + QLatin1String(" (see --help)"), 2);
    if (parser.isSet(QStringLiteral("help")) || parser.isSet(QStringLiteral("help-all"))
        || parser.isSet(QStringLiteral("version")))
        parser.process(app); // prints help or the version and exits 0
    const QString jsonPath = parser.value(QStringLiteral("json"));
    const QString headerPath = parser.value(QStringLiteral("header"));
    const QString outDir = parser.value(QStringLiteral("output-dir"));
    const QString base = parser.value(QStringLiteral("basename"));
    if (jsonPath.isEmpty() || headerPath.isEmpty() || outDir.isEmpty() || base.isEmpty())
        return failWith(QStringLiteral("tomato-stubgen: --json, --header, --output-dir and --basename are required "
                                       "(see --help)"), 2);

    QFile header(headerPath);
    if (!header.open(QIODevice::ReadOnly))
        return failWith(QStringLiteral("tomato-stubgen: cannot read %1: %2").arg(headerPath, header.errorString()));
    const HeaderText text(QString::fromUtf8(header.readAll()));
    // moc writes no JSON, or an empty one, for a header without a Q_OBJECT class.
    QJsonObject root;
    QFile jsonFile(jsonPath);
    if (jsonFile.open(QIODevice::ReadOnly)) {
        QJsonParseError error;
        const QJsonDocument doc = QJsonDocument::fromJson(jsonFile.readAll(), &error);
        root = doc.object();
    }

    const QList<Interface> interfaces = readInterfaces(root, text);
    const QList<Diagnostic> problems = Checker(root, text).run(interfaces);
    if (!problems.isEmpty()) {
        for (const Diagnostic &d : problems) {
            std::fprintf(stderr, "%s%s: error: %s\n", qPrintable(headerPath),
                         d.line > 0 ? qPrintable(QStringLiteral(":%1").arg(d.line)) : "", qPrintable(d.message));
        }
        return 1;
    }

    Output o;
    o.interfaceInclude = parser.isSet(QStringLiteral("include")) ? parser.value(QStringLiteral("include"))
                                                                 : QFileInfo(headerPath).fileName();
    o.exportMacro = parser.value(QStringLiteral("export-macro"));
    o.exportHeader = parser.value(QStringLiteral("export-header"));
    const QString stubHeader = base + QLatin1String("_stub.h");
    QString error;
    if (!write(outDir + QLatin1Char('/') + stubHeader,
               [&](QTextStream &out) { writeHeader(out, interfaces, QFileInfo(headerPath).fileName(), o); }, &error)
        || !write(outDir + QLatin1Char('/') + base + QLatin1String("_stub.cpp"),
                  [&](QTextStream &out) { writeSource(out, interfaces, stubHeader); }, &error))
        return failWith(QStringLiteral("tomato-stubgen: ") + error);
    return 0;
}
