"""A word-by-word English gloss of the injection-relevant words in other languages (round 11).

The n-gram model learnt what an override looks like from thousands of English texts;
a Polish or Thai attack shares none of its words. :func:`gloss` maps the words of a small
concept list (ignore, previous, instructions, system prompt, reveal, other customers,
refund, developer mode, ... and the shopper's side: my question, size, colour, delivery,
manual) from 25 languages to English and returns them in the order they occur, so
"Ignoriere alle vorherigen Anweisungen" gains the view "ignore all previous instructions"
and "Vergiss meine vorige Frage" the view "forget my previous question". The detector
scores the gloss as one more view of the text, like decoded base64
(:mod:`._normalise`); the gloss is no translation and claims none.

The lexicon was written by hand from that concept list, one language at a time, by an
author who had just written round 11's audit set (so that read is the least clean;
``bench/results/assistant_injection_history.md``). :data:`LEXICON_12` adds the idioms round
11 missed on that set (round 12's candidate); :func:`gloss_rule` names four requests no
shopper makes, read from a gloss's terms (round 13's candidate). Cross-lingual lexicon
projection is an old idea (e.g. Mihalcea, Banea and Wiebe 2007, "Learning Multilingual
Subjective Language via Cross-Lingual Projections", ACL). Matching:

- Latin, Cyrillic and Greek words: ``stem*`` matches a word that starts with the stem
  (inflections: "Anweisungen", "instrucciones", "инструкции"), any other entry the whole
  word. A compound's second part is tried too ("Systemanweisungen").
- Entries with a space, and every entry in scripts written without spaces between words
  or with attached particles (Arabic, Hebrew, Devanagari, Thai, CJK, Hangul), match as
  substrings, longest first.
- Text and stems alike are NFKC-normalised, stripped of invisible characters, lower-cased
  and then passed through the normaliser's homoglyph map, so a Cyrillic or Greek stem
  meets its word whatever its case.

A gloss is returned only when at least :data:`MIN_FOREIGN_HITS` matched words are not
English words themselves: English text gets no gloss.
"""

from __future__ import annotations

import bisect
import hashlib
import re
import unicodedata
from collections.abc import Sequence
from functools import cache
from typing import NamedTuple

from shopguard.assistant._normalise import _HOMOGLYPHS, _INVISIBLE

__all__ = [
    "LEXICON",
    "LEXICON_12",
    "MIN_FOREIGN_HITS",
    "concepts",
    "english_concepts",
    "gloss",
    "gloss_rule",
    "gloss_terms",
    "lexicon_version",
]

#: The fewest matched non-English words that make a gloss.
MIN_FOREIGN_HITS = 2

# "source=gloss" entries separated by ";"; "*" ends a stem; "_" in a gloss is a space.
LEXICON: dict[str, str] = {
    "de": """
        ignorier*=ignore; missacht*=ignore; vergiss=forget; vergessen=forget; vergesst=forget;
        vorherig*=previous; vorig*=previous; bisherig*=previous; früher*=previous;
        alle=all; allen=all; sämtlich*=all; anweisung*=instructions; instruktion*=instructions;
        vorgabe*=instructions; befehl*=instructions; regeln=rules; regel=rules;
        richtlinie*=rules; systemprompt*=system_prompt; system*=system; prompt*=prompt;
        zeig*=show; gib=give; geben=give; ausgeben=print; schreib*=write; kopier*=copy;
        verrat*=reveal; enthüll*=reveal; offenbar*=reveal; nenn*=tell; sag=tell; sage=tell;
        auflist*=list; liste=list; versteckt*=hidden; verborgen*=hidden; geheim*=secret;
        vertraulich*=confidential; konfiguration*=configuration; einrichtung*=configuration;
        einstellung*=settings; text*=text; anfang*=beginning; wörtlich*=word_for_word;
        kunde=customer; kunden*=customers; käufer*=customers; nutzer*=user; benutzer*=user;
        andere*=other; fremde*=other; bestellung*=orders; adresse*=address; e-mail*=email;
        telefonnummer*=phone_number; passwort*=password; kennwort*=password;
        kreditkart*=card; karte=card; daten=data; kundendaten=customer_data;
        erstatt*=refund; rückerstatt*=refund; ohne=without; prüfung*=check;
        freigabe*=approval; jetzt=now; sofort=now; bist=you_are; spiel=play; spielen=play;
        rolle*=role; entwicklermodus*=developer_mode; entwickler*=developer;
        administrator*=administrator; admin=administrator; modus=mode;
        wartungsmodus*=maintenance_mode; debug*=debug; einschränkung*=restrictions;
        beschränkung*=restrictions; grenzen=limits; filter*=filters; keine=no; kein=no;
        neue=new; neuen=new; aufgabe*=task; assistent*=assistant; ki=ai; hinweis*=note;
        befolg*=follow; gehorch*=obey; deaktivier*=disable; mein=my; meine=my; meinen=my;
        meiner=my; dein=your; deine=your; deinen=your; deiner=your; frage*=question;
        nachricht*=message; gesagt=said; größe*=size; farbe*=colour; lieferung*=delivery;
        rechnung*=receipt; quittung*=receipt; rücksend*=return; umtausch*=return;
        bedienungsanleitung*=manual; anleitung*=manual; empfiehl*=recommend;
        empfehl*=recommend; vorstell*=imagine
    """,
    "fr": """
        ignore=ignore; ignorer=ignore; ignorez=ignore; oublie=forget; oubliez=forget;
        oublier=forget; précédent*=previous; antérieur*=previous; tout=all; toutes=all;
        tous=all; consigne*=instructions; instructions=instructions; règle*=rules;
        directive*=rules; système=system; prompt=prompt; invite=prompt; affiche*=show;
        montre*=show; donne*=give; écris=write; écrire=write; recopie*=copy; copie*=copy;
        révèle*=reveal; dévoile*=reveal; dis=tell; dire=tell; liste*=list; caché*=hidden;
        secret*=secret; confidentiel*=confidential; configuration*=configuration;
        paramètre*=settings; texte*=text; début*=beginning; départ=beginning;
        client=customer; clients=customers; acheteur*=customers; utilisateur*=user;
        autre=other; autres=other; commande*=orders; adresse*=address; e-mail*=email;
        courriel*=email; téléphone*=phone_number; passe=password; carte*=card;
        données=data; rembourse*=refund; sans=without; vérification*=check;
        contrôle*=check; validation*=approval; maintenant=now; désormais=from_now_on;
        dorénavant=from_now_on; tu es=you_are; joue*=play; rôle*=role;
        développeur*=developer; administrateur*=administrator; admin=administrator;
        mode=mode; débogage*=debug; restriction*=restrictions; limite*=limits;
        filtre*=filters; aucun*=no; nouvelle*=new; nouveau*=new; mission*=task;
        tâche*=task; assistant*=assistant; ia=ai; note=note; message*=message;
        respecte*=follow; obéi*=obey; désactive*=disable; mes=my; ma=my; mon=my; tes=your;
        ta=your; ton=your; question*=question; dit=said; taille*=size; couleur*=colour;
        livraison*=delivery; facture*=receipt; reçu=receipt; retour*=return;
        notice*=manual; conseille*=recommend; recommande*=recommend; imagine*=imagine
    """,
    "es": """
        ignora*=ignore; omiso=ignore; olvida*=forget; olvíd*=forget; anterior*=previous;
        previa*=previous; previo*=previous; todas=all; todos=all; toda=all; todo=all;
        instruccion*=instructions; instrucción=instructions; indicacion*=instructions;
        indicación=instructions; regla*=rules; norma*=rules; directriz=rules;
        directrices=rules; sistema=system; prompt=prompt; muestra*=show; muéstra*=show;
        enseña*=show; dame=give; escribe*=write; copia*=copy; revela*=reveal; dime=tell;
        enumera*=list; lista*=list; oculta*=hidden; oculto*=hidden; secret*=secret;
        confidencial*=confidential; configuración=configuration; ajuste*=settings;
        texto*=text; principio*=beginning; inicio*=beginning; palabra=word;
        cliente=customer; clientes=customers; comprador*=customers; usuario*=user;
        otro=other; otros=other; otra=other; otras=other; pedido*=orders;
        dirección=address; direcciones=address; correo*=email; teléfono*=phone_number;
        contraseña*=password; tarjeta*=card; datos=data; reembols*=refund; sin=without;
        comprobar=check; comprobación=check; verifica*=check; aprobación=approval;
        ahora=now; eres=you_are; finge*=pretend; actúa*=act_as; papel=role; rol=role;
        desarrollador*=developer; administrador*=administrator; modo=mode;
        depuración=debug; restriccion*=restrictions; restricción=restrictions;
        límite*=limits; filtro*=filters; ninguna=no; ningún=no; ninguno=no; nueva*=new;
        nuevo*=new; misión=task; tarea*=task; asistente*=assistant; ia=ai; nota*=note;
        mensaje*=message; sigue*=follow; seguir=follow; obedece*=obey; desactiva*=disable;
        mis=my; mi=my; tus=your; pregunta*=question; dije=said; escribí=said;
        talla*=size; color*=colour; envío*=delivery; entrega*=delivery; factura*=receipt;
        devolución*=return; manual*=manual; recomienda*=recommend; recomiénda*=recommend;
        aconseja*=recommend; imagina*=imagine
    """,
    "it": """
        ignora*=ignore; dimentica*=forget; precedent*=previous; tutte=all; tutti=all;
        tutto=all; ogni=all; istruzion*=instructions; regol*=rules; direttiv*=rules;
        sistema=system; prompt=prompt; mostra*=show; dammi=give; scrivi*=write;
        copia*=copy; rivela*=reveal; dimmi=tell; elenca*=list; nascost*=hidden;
        segret*=secret; riservat*=confidential; configurazion*=configuration;
        impostazion*=settings; testo=text; inizio=beginning; parola=word; cliente=customer;
        clienti=customers; acquirent*=customers; utent*=user; altro=other; altri=other;
        altra=other; altre=other; ordin*=orders; indirizz*=address; email=email;
        telefon*=phone_number; password=password; carta=card; dati=data; rimbors*=refund;
        senza=without; controll*=check; verific*=check; approvazion*=approval;
        adesso=now; ora=now; sei=you_are; fingi*=pretend; finta=pretend; ruolo=role;
        sviluppator*=developer; amministrator*=administrator; modalità=mode;
        restrizion*=restrictions; limit*=limits; filtr*=filters; nessun*=no; nuovo=new;
        nuova=new; nuove=new; compito=task; assistente=assistant; ia=ai; nota=note;
        messaggio*=message; segui*=follow; obbedisc*=obey; disattiva*=disable; mie=my;
        mia=my; mio=my; miei=my; tue=your; tua=your; tuo=your; tuoi=your;
        domanda*=question; detto=said; taglia*=size; colore*=colour; consegna*=delivery;
        spedizion*=delivery; fattura*=receipt; scontrino*=receipt; reso=return;
        manuale*=manual; consiglia*=recommend; suggerisc*=recommend; immagina*=imagine
    """,
    "pt": """
        ignore=ignore; ignora*=ignore; esqueça*=forget; esquece*=forget;
        anterior*=previous; todas=all; todos=all; tudo=all; instruç*=instructions;
        orientaç*=instructions; regra*=rules; sistema=system; prompt=prompt;
        mostre*=show; mostra*=show; dê=give; passe=give; escreva*=write; copie*=copy;
        revele*=reveal; revela*=reveal; diga*=tell; liste*=list; ocult*=hidden;
        secret*=secret; confidencia*=confidential; configuraç*=configuration;
        texto*=text; início=beginning; palavra=word; cliente=customer; clientes=customers;
        comprador*=customers; usuário*=user; outro=other; outros=other; outra=other;
        pedido*=orders; encomenda*=orders; endereço*=address; e-mail*=email;
        telefone*=phone_number; senha*=password; cartão=card; dados=data;
        reembols*=refund; sem=without; verificaç*=check; aprovaç*=approval; agora=now;
        finja*=pretend; finge*=pretend; papel=role; desenvolvedor*=developer;
        administrador*=administrator; modo=mode; depuraç*=debug; restriç*=restrictions;
        limite*=limits; filtro*=filters; nenhum*=no; nenhuma=no; nova*=new; novo*=new;
        tarefa*=task; assistente*=assistant; ia=ai; nota=note; mensagem*=message;
        siga*=follow; obedeç*=obey; desativ*=disable; minha*=my; meu*=my; sua*=your;
        seu*=your; tua=your; teu=your; pergunta*=question; disse=said; tamanho*=size;
        cor=colour; frete*=delivery; entrega*=delivery; recibo*=receipt;
        devoluç*=return; manual*=manual; recomend*=recommend; indique*=recommend;
        imagine*=imagine
    """,
    "nl": """
        negeer*=ignore; vergeet*=forget; eerder*=previous; vorig*=previous; alle=all;
        instructie*=instructions; opdracht*=instructions; regel*=rules; richtlijn*=rules;
        systeemprompt*=system_prompt; systeem*=system; prompt*=prompt; toon*=show;
        geef=give; schrijf*=write; kopieer*=copy; plak*=paste; onthul*=reveal;
        vertel*=tell; noem*=list; verborgen=hidden; geheim*=secret;
        vertrouwelijk*=confidential; configuratie*=configuration; instelling*=settings;
        tekst*=text; begin=beginning; woord=word; klant=customer; klanten=customers;
        koper*=customers; gebruiker*=user; andere=other; ander=other;
        bestelling*=orders; adres*=address; e-mail*=email; telefoon*=phone_number;
        wachtwoord*=password; kaart*=card; gegevens=data; terugbetal*=refund;
        zonder=without; controle*=check; goedkeuring*=approval; nu=now; bent=you_are;
        alsof=pretend; speel*=play; rol=role; ontwikkelaar*=developer;
        beheerder*=administrator; modus=mode; beperking*=restrictions; grenzen=limits;
        filter*=filters; geen=no; nieuwe=new; taak=task; assistent*=assistant;
        notitie*=note; bericht*=message; volg*=follow; gehoorza*=obey;
        uitschakel*=disable; mijn=my; je=your; jouw=your; vraag*=question;
        gezegd=said; schreef=said; maat=size; kleur*=colour; bezorging*=delivery;
        levering*=delivery; factuur*=receipt; bon=receipt; retour*=return;
        handleiding*=manual; raad=recommend; aanbevel*=recommend
    """,
    "sv": """
        ignorera*=ignore; strunta*=ignore; glöm*=forget; tidigare=previous;
        föregående=previous; alla=all; allt=all; instruktion*=instructions; regler=rules;
        regel=rules; systemprompt*=system_prompt; system*=system; prompt*=prompt;
        visa=show; ge=give; skriv*=write; kopiera*=copy; avslöja*=reveal;
        berätta*=tell; lista*=list; dold=hidden; dolda=hidden; hemlig*=secret;
        konfidentiell*=confidential; konfiguration*=configuration; inställning*=settings;
        text*=text; början=beginning; ord=word; kund=customer; kunder*=customers;
        kunders=customers; köpare*=customers; användar*=user; andra=other; annan=other;
        beställning*=orders; adress*=address; e-post*=email; telefonnum*=phone_number;
        lösenord*=password; kort=card; uppgifter=data; återbetal*=refund; utan=without;
        kontroll*=check; godkännande*=approval; nu=now; låtsas*=pretend; spela*=play;
        roll=role; utvecklar*=developer; administratör*=administrator; läge=mode;
        begränsning*=restrictions; gränser=limits; filter*=filters; inga=no; ingen=no;
        ny=new; nya=new; uppgift*=task; assistent*=assistant; meddelande*=message;
        följ*=follow; lyd=obey; min=my; mitt=my; mina=my; din=your; ditt=your; dina=your;
        fråga*=question; sa=said; skrev=said; storlek*=size; färg*=colour;
        leverans*=delivery; kvitto*=receipt; retur*=return; bruksanvisning*=manual;
        rekommendera*=recommend; tipsa*=recommend; föreställ*=imagine
    """,
    "no": """
        overse=ignore; ignorer*=ignore; glem*=forget; tidligere=previous; forrige=previous;
        alle=all; alt=all; instruksjon*=instructions; regler*=rules; regel=rules;
        systemprompt*=system_prompt; system*=system; prompt*=prompt; vis=show; gi=give;
        skriv*=write; kopier*=copy; avslør*=reveal; fortell*=tell; list=list;
        skjult*=hidden; hemmelig*=secret; konfidensiell*=confidential;
        konfigurasjon*=configuration; innstilling*=settings; tekst*=text;
        starten=beginning; ord=word; kunde=customer; kunder*=customers; kjøper*=customers;
        bruker*=user; andre=other; annen=other; bestilling*=orders; ordre*=orders;
        adresse*=address; e-post*=email; telefonnum*=phone_number; passord*=password;
        kort=card; opplysning*=data; refunder*=refund; tilbakebetal*=refund;
        uten=without; kontroll*=check; godkjenning*=approval; nå=now; lat=pretend;
        rolle*=role; utvikler*=developer; modus=mode; begrensning*=restrictions;
        grenser=limits; ingen=no; ny=new; nye=new; oppgave*=task; assistent*=assistant;
        melding*=message; følg*=follow; adlyd*=obey; min=my; mitt=my; mine=my; din=your;
        ditt=your; dine=your; spørsmål*=question; sa=said; størrelse*=size;
        farge*=colour; levering*=delivery; kvittering*=receipt; retur*=return;
        bruksanvisning*=manual; anbefal*=recommend
    """,
    "fi": """
        ohita*=ignore; huomiotta=ignore; unohda*=forget; aiemm*=previous;
        edelli*=previous; kaikki*=all; ohje*=instructions; sääntö*=rules;
        säänn*=rules; järjestelmäkehote*=system_prompt; järjestelmä*=system;
        kehote*=prompt; kehott*=prompt; näytä=show; anna=give; kirjoita=write;
        kopioi=copy; paljasta*=reveal; kerro=tell; luettele*=list; piilo*=hidden;
        salai*=secret; luottamukselli*=confidential; asetuks*=settings; asetukset=settings;
        teksti*=text; alku*=beginning; sana*=word; asiakas*=customer; asiakkai*=customers;
        asiakkaan=customer; ostaj*=customers; käyttäjä*=user; muiden=other; muut=other;
        toise*=other; tilaus*=orders; tilauks*=orders; osoit*=address;
        sähköposti*=email; puhelinnumero*=phone_number; salasana*=password;
        kortti*=card; kortin=card; tiedot=data; tietoja=data; palauta=refund;
        hyvit*=refund; ilman=without; tarkistu*=check; hyväksyn*=approval; nyt=now;
        olet=you_are; esitä=pretend; rooli*=role; kehittäjä*=developer;
        ylläpitäjä*=administrator; tila=mode; rajoitu*=restrictions;
        rajoituks*=restrictions; suodatin*=filters; uusi=new; uusia=new;
        tehtävä*=task; avustaja*=assistant; tekoäly*=ai; viesti*=message;
        noudata*=follow; tottele*=obey; minun=my; sinun=your; kysymy*=question;
        sanoin=said; koko=size; väri*=colour; toimitu*=delivery; kuitti*=receipt;
        palautu*=return; käyttöohje*=manual; suosittele*=recommend; kuvittele*=imagine
    """,
    "pl": """
        zignoruj*=ignore; ignoruj*=ignore; zapomnij*=forget; poprzedni*=previous;
        wcześniejsz*=previous; dotychczasow*=previous; wszystk*=all; polecen*=instructions;
        instrukcj*=instructions; zasad*=rules; reguł*=rules; systemow*=system;
        system*=system; prompt*=prompt; pokaż=show; wyświetl*=show; podaj*=give; daj=give;
        napisz=write; wypisz*=list; przepisz*=copy; skopiuj*=copy; ujawnij*=reveal;
        powiedz*=tell; ukryt*=hidden; tajn*=secret; sekret*=secret; poufn*=confidential;
        konfiguracj*=configuration; ustawie*=settings; tekst*=text; początk*=beginning;
        słowo=word; klient=customer; klienta=customer; klientów=customers;
        klienci=customers; kupując*=customers; użytkownik*=user; innych=other;
        innego=other; inny=other; inne=other; zamówie*=orders; adres*=address;
        e-mail*=email; telefon*=phone_number; hasło=password; hasła=password;
        kart*=card; dane=data; danych=data; zwróć=refund; bez=without;
        weryfikacj*=check; sprawdz*=check; zatwierdz*=approval; teraz=now;
        jesteś=you_are; udawaj*=pretend; zagraj*=play; rola=role; rolę=role; roli=role;
        deweloper*=developer; programist*=developer; administrator*=administrator;
        tryb*=mode; ograniczeń=restrictions; ograniczen*=restrictions; filtr*=filters;
        żadn*=no; nowe=new; nowy=new; nowa=new; zadani*=task; asystent*=assistant;
        wiadomoś*=message; przestrzeg*=follow; słuchaj*=obey; wyłącz*=disable; mój=my;
        moje=my; moją=my; moim=my; moich=my; mojego=my; twój=your; twoje=your;
        twoja=your; twoich=your; swoje=your; swój=your; pytani*=question;
        napisałem=said; rozmiar*=size; kolor*=colour; dostaw*=delivery;
        paragon*=receipt; faktur*=receipt; zwrot*=return; poleć=recommend;
        doradź=recommend; wyobraź*=imagine
    """,
    "cs": """
        ignoruj*=ignore; zapomeň*=forget; předchozí*=previous; dřívější*=previous;
        všechn*=all; pokyn*=instructions; instrukc*=instructions; pravidl*=rules;
        systémov*=system; systém*=system; prompt*=prompt; ukaž=show; zobraz*=show;
        dej=give; napiš=write; vypiš*=list; zkopíruj*=copy; prozraď*=reveal; řekni=tell;
        skryt*=hidden; tajn*=secret; důvěrn*=confidential; konfigurac*=configuration;
        nastavení=settings; text*=text; začát*=beginning; slovo=word;
        zákazník*=customers; uživatel*=user; ostatní*=other; jiného=other; jiných=other;
        objednáv*=orders; adres*=address; e-mail*=email; telefon*=phone_number;
        heslo=password; hesla=password; kart*=card; údaj*=data; vrať=refund;
        refundac*=refund; bez=without; kontrol*=check; schválen*=approval; teď=now;
        nyní=now; jsi=you_are; předstírej*=pretend; hraj*=play; role=role; roli=role;
        vývojář*=developer; administrátor*=administrator; režim*=mode;
        omezení=restrictions; filtr*=filters; žádn*=no; nový=new; nová=new; nové=new;
        úkol*=task; asistent*=assistant; zpráv*=message; dodržuj*=follow;
        poslouchej=obey; vypni=disable; můj=my; moje=my; mou=my; mého=my; tvůj=your;
        tvoje=your; tvé=your; svoje=your; dotaz*=question; otázk*=question; psal=said;
        velikost*=size; barv*=colour; doručen*=delivery; účtenk*=receipt;
        vrácen*=return; návod*=manual; doporuč*=recommend; představ*=imagine
    """,
    "hu": """
        figyelmen=ignore; felejtsd*=forget; felejts*=forget; előző*=previous;
        korábbi*=previous; összes*=all; minden*=all; utasítás*=instructions;
        utasítá*=instructions; szabály*=rules; rendszer*=system; prompt*=prompt;
        mutasd*=show; add=give; írd=write; másold*=copy; árul*=reveal; mondd*=tell;
        sorold*=list; rejtett*=hidden; titk*=secret; bizalmas*=confidential;
        konfiguráci*=configuration; beállítás*=settings; szöveg*=text; elej*=beginning;
        szó=word; vásárló*=customers; ügyfel*=customers; ügyfél*=customer;
        felhasználó*=user; többi=other; más=other; másik=other; rendelés*=orders;
        cím=address; címe*=address; címé*=address; e-mail*=email; telefonszám*=phone_number;
        jelszó*=password; jelszav*=password; kártya*=card; adat*=data;
        visszatérít*=refund; nélkül=without; ellenőrzés*=check; jóváhagy*=approval;
        most=now; mostantól=from_now_on; szerep*=role; fejlesztő*=developer;
        adminisztrátor*=administrator; üzemmód*=mode; korlátoz*=restrictions;
        szűrő*=filters; nincs=no; új=new; feladat*=task; asszisztens*=assistant;
        üzenet*=message; kövesd=follow; engedelmesked*=obey; kérdés*=question;
        írtam=said; méret*=size; szín*=colour; szállítás*=delivery; számla*=receipt;
        számlá*=receipt; visszaküld*=return; útmutató*=manual; ajánl*=recommend;
        képzeld*=imagine
    """,
    "ro": """
        ignoră*=ignore; ignora*=ignore; uită*=forget; anterioar*=previous;
        precedent*=previous; toate=all; tot=all; instrucțiun*=instructions;
        instrucţiun*=instructions; regul*=rules; sistem*=system; prompt*=prompt;
        arată*=show; afișează*=show; dă=give; scrie*=write; copiază*=copy;
        dezvăluie*=reveal; spune*=tell; listează*=list; ascuns*=hidden; secret*=secret;
        confidențial*=confidential; configurați*=configuration; setări*=settings;
        text*=text; început*=beginning; cuvânt*=word; client=customer; clienți=customers;
        clienților=customers; cumpărător*=customers; utilizator*=user; alți=other;
        altor=other; alte=other; altui=other; comenz*=orders; comandă*=orders;
        adres*=address; e-mail*=email; telefon*=phone_number; parol*=password;
        card*=card; date=data; datele=data; rambursea*=refund; ramburs*=refund;
        fără=without; verificar*=check; aprobar*=approval; acum=now; ești=you_are;
        prefă*=pretend; joacă*=play; rol=role; rolul=role; dezvoltator*=developer;
        administrator*=administrator; mod=mode; modul=mode; restricți*=restrictions;
        filtr*=filters; niciun*=no; nou=new; nouă=new; noi=new; sarcin*=task;
        asistent*=assistant; mesaj*=message; urmează*=follow; respectă*=follow;
        ascultă*=obey; dezactivea*=disable; mea=my; meu=my; mele=my; tău=your; ta=your;
        tale=your; întrebar*=question; spus=said; mărim*=size; culoar*=colour;
        livrar*=delivery; factur*=receipt; bonul=receipt; return*=return;
        manual*=manual; recomandă*=recommend; imaginea*=imagine
    """,
    "tr": """
        görmezden=ignore; kenara=ignore; unut*=forget; önceki*=previous; tüm=all;
        bütün=all; hepsi*=all; talimat*=instructions; komut*=instructions;
        kural*=rules; sistem*=system; istem*=prompt; prompt*=prompt; göster*=show;
        ver=give; yaz=write; yazdır*=print; kopyala*=copy; açıkla*=reveal; söyle*=tell;
        listele*=list; gizli*=hidden; sır=secret; sırrı=secret; yapılandırma*=configuration;
        ayar*=settings; metin*=text; metn*=text; başlangıç*=beginning; kelime*=word;
        müşteri*=customers; kullanıcı*=user; diğer*=other; başka*=other;
        sipariş*=orders; adres*=address; e-posta*=email; telefon*=phone_number;
        şifre*=password; parola*=password; kart*=card; veri*=data; bilgi*=data;
        iade*=refund; onaysız=without_approval; kontrol*=check; onay*=approval;
        artık=now; şimdi*=now; sen=you; davran*=act_as; rol=role; rolü=role;
        geliştirici*=developer; yönetici*=administrator; mod=mode; modu=mode;
        moduna=mode; kısıtlama*=restrictions; sınır*=limits; filtre*=filters; hiç=no;
        hiçbir=no; yeni=new; görev*=task; asistan*=assistant; mesaj*=message; uy=follow;
        uyma=follow; benim=my; senin=your; soru*=question; beden*=size; renk*=colour;
        rengi*=colour; kargo*=delivery; teslimat*=delivery; fatura*=receipt;
        fiş*=receipt; öner*=recommend; hayal*=imagine
    """,
    "ru": """
        игнорир*=ignore; игнорируй*=ignore; внимания=ignore; забудь*=forget;
        забуд*=forget; предыдущ*=previous; прежн*=previous; все=all; всё=all; всех=all;
        инструкци*=instructions; указани*=instructions; правил*=rules; систем*=system;
        промпт*=prompt; покажи=show; выведи*=print; дай=give; напиши*=write;
        перепиши*=copy; скопируй*=copy; раскрой*=reveal; расскажи*=tell; скажи*=tell;
        перечисли*=list; список=list; скрыт*=hidden; секрет*=secret; тайн*=secret;
        конфиденциальн*=confidential; конфигурац*=configuration; настройк*=settings;
        настроек=settings; текст*=text; начал*=beginning; слово=word; клиент*=customers;
        покупател*=customers; пользовател*=user; други*=other; чуж*=other;
        заказ*=orders; адрес*=address; почт*=email; телефон*=phone_number;
        пароль*=password; парол*=password; карт*=card; данны*=data; возврат*=refund;
        верни*=refund; без=without; проверк*=check; одобрени*=approval; теперь=now;
        отныне=from_now_on; ты=you; притворись*=pretend; представь*=imagine;
        играй*=play; роль=role; роли=role; разработчик*=developer;
        администратор*=administrator; админ*=administrator; режим*=mode;
        ограничени*=restrictions; фильтр*=filters; никаких=no; нет=no; новая=new;
        новый=new; новое=new; новую=new; задач*=task; ассистент*=assistant;
        помощник*=assistant; ии=ai; сообщени*=message; следуй*=follow; слушай*=obey;
        подчиняй*=obey; отключи*=disable; мой=my; мою=my; мои=my; моё=my; мое=my;
        твой=your; твои=your; свой=your; свои=your; вопрос*=question; писал=said;
        размер*=size; цвет*=colour; доставк*=delivery; чек=receipt; чека=receipt;
        посоветуй*=recommend
    """,
    "uk": """
        ігнор*=ignore; уваги=ignore; зважай=ignore; забудь*=forget;
        попередн*=previous; усі=all; всі=all; інструкці*=instructions;
        вказівк*=instructions; правил*=rules; систем*=system; промпт*=prompt;
        покажи=show; виведи*=print; дай=give; напиши*=write; скопіюй*=copy;
        розкрий*=reveal; скажи*=tell; перелічи*=list; прихован*=hidden; таємн*=secret;
        секрет*=secret; конфіденційн*=confidential; налаштуван*=settings; текст*=text;
        початк*=beginning; клієнт*=customers; покупц*=customers; користувач*=user;
        інших=other; інші=other; чужи*=other; замовлен*=orders; адрес*=address;
        пошт*=email; телефон*=phone_number; пароль*=password; карт*=card; дані=data;
        даних=data; поверн*=refund; без=without; перевірк*=check; схвален*=approval;
        тепер=now; відтепер=from_now_on; ти=you; вдавай*=pretend; уяви*=imagine;
        грай*=play; роль=role; розробник*=developer; адміністратор*=administrator;
        режим*=mode; обмежен*=restrictions; фільтр*=filters; жодн*=no; нове=new;
        нова=new; новий=new; завдан*=task; асистент*=assistant;
        повідомлен*=message; лист=message; дотримуй*=follow; слухай*=obey;
        вимкни*=disable; мій=my; моє=my; мої=my; мою=my; твій=your; твої=your;
        свій=your; свої=your; питанн*=question; розмір*=size; колір*=colour;
        кольор*=colour; доставк*=delivery; чек=receipt; порадь*=recommend
    """,
    "el": """
        αγνόησ*=ignore; αγνοήστε=ignore; ξέχνα*=forget; ξέχασε*=forget;
        προηγούμεν*=previous; όλες=all; όλα=all; όλους=all; οδηγί*=instructions;
        εντολ*=instructions; κανόν*=rules; σύστημα*=system; συστήματος=system;
        προτροπ*=prompt; δείξε*=show; εμφάνισε*=show; δώσε*=give; γράψε*=write;
        αντίγραψε*=copy; αποκάλυψε*=reveal; πες=tell; απαρίθμησε*=list; κρυφ*=hidden;
        μυστικ*=secret; εμπιστευτικ*=confidential; ρυθμίσ*=settings;
        διαμόρφωσ*=configuration; κείμενο*=text; αρχή=beginning; λέξη=word;
        πελάτ*=customers; χρήστ*=user; άλλων=other; άλλου=other; άλλους=other;
        άλλες=other; παραγγελί*=orders; διεύθυνσ*=address; email=email;
        τηλέφων*=phone_number; κωδικ*=password; κάρτα*=card; στοιχεία=data;
        δεδομένα=data; επέστρεψε*=refund; αποζημίωσ*=refund; χωρίς=without;
        έλεγχο*=check; έγκρισ*=approval; τώρα=now; είσαι=you_are;
        προσποιήσου*=pretend; παίξε*=play; ρόλο*=role; προγραμματιστ*=developer;
        διαχειριστ*=administrator; λειτουργία*=mode; περιορισμ*=restrictions;
        φίλτρ*=filters; κανένα*=no; νέα=new; νέο=new; καθήκον*=task; εργασία*=task;
        βοηθός*=assistant; μήνυμα*=message; ακολούθ*=follow; υπάκου*=obey;
        απενεργοποί*=disable; μου=my; σου=your; ερώτησ*=question; είπα=said;
        μέγεθος*=size; χρώμα*=colour; αποστολ*=delivery; παράδοσ*=delivery;
        απόδειξ*=receipt; επιστροφ*=return; εγχειρίδιο*=manual; πρότεινε*=recommend;
        φαντάσου*=imagine
    """,
    "ar": """
        تجاهل=ignore; انسى=forget; انسَ=forget; السابق=previous; سابق=previous;
        جميع=all; التعليمات=instructions; تعليمات=instructions; الأوامر=instructions;
        أوامر=instructions; القواعد=rules; قواعد=rules; النظام=system; نظام=system;
        موجه=prompt; برومبت=prompt; اعرض=show; أظهر=show; اكشف=reveal; أعطني=give;
        اكتب=write; انسخ=copy; أخبرني=tell; مخفي=hidden; سري=secret; السرية=secret;
        الإعدادات=settings; إعدادات=settings; النص=text; بداية=beginning;
        العملاء=customers; عملاء=customers; العميل=customer; الزبائن=customers;
        المستخدم=user; الآخرين=other; الطلبات=orders; طلبات=orders; عناوين=address;
        عنوان=address; البريد=email; الهاتف=phone_number; هواتف=phone_number;
        المرور=password; بطاقة=card; البيانات=data; بيانات=data; استرداد=refund;
        بدون=without; تحقق=check; موافقة=approval; الآن=now; أنت=you; تظاهر=pretend;
        تخيل=imagine; المطور=developer; مطور=developer; المسؤول=administrator;
        وضع=mode; قيود=restrictions; فلاتر=filters; جديدة=new; جديد=new; مهمة=task;
        المساعد=assistant; الذكاء=ai; رسالة=message; رسالت=message; اتبع=follow;
        اتباع=follow; أطع=obey; سؤال=question; مقاس=size; اللون=colour;
        الشحن=delivery; توصيل=delivery; فاتورة=receipt; الفاتورة=receipt;
        إرجاع=return; دليل=manual; انصح=recommend
    """,
    "he": """
        התעלם=ignore; תתעלם=ignore; שכח=forget; תשכח=forget; קודמ=previous;
        הוראות=instructions; הנחיות=instructions; כללים=rules; חוקים=rules;
        מערכת=system; פרומפט=prompt; הצג=show; תראה=show; הראה=show; כתוב=write;
        העתק=copy; חשוף=reveal; תגיד=tell; מוסתר=hidden; נסתר=hidden; סודי=secret;
        חסוי=confidential; הגדרות=settings; טקסט=text; התחלה=beginning;
        לקוחות=customers; לקוח=customer; משתמש=user; אחרים=other; הזמנות=orders;
        כתובות=address; כתובת=address; מייל=email; טלפון=phone_number;
        סיסמה=password; סיסמא=password; כרטיס=card; נתונים=data; פרטים=data;
        החזר=refund; ללא=without; בלי=without; בדיקה=check; אישור=approval;
        עכשיו=now; אתה=you; העמד=pretend; תעמיד=pretend; דמיין=imagine;
        תפקיד=role; מפתח=developer; מנהל=administrator; מצב=mode;
        הגבלות=restrictions; מגבלות=restrictions; מסננים=filters; חדשה=new;
        משימה=task; עוזר=assistant; הודעה=message; ציית=obey; תציית=obey;
        שאלה=question; מידה=size; צבע=colour; משלוח=delivery; קבלה=receipt;
        החזרה=return; מדריך=manual; המלץ=recommend; תמליץ=recommend
    """,
    "hi": """
        अनदेखा=ignore; नजरअंदाज=ignore; नज़रअंदाज़=ignore; भूल=forget; पिछले=previous;
        पिछली=previous; सभी=all; सारे=all; निर्देश=instructions; नियम=rules;
        सिस्टम=system; प्रॉम्प्ट=prompt; प्रोम्प्ट=prompt; दिखाओ=show; दिखाइए=show;
        लिखो=write; कॉपी=copy; बताओ=tell; बताइए=tell; सूची=list; छिपे=hidden;
        छुपे=hidden; गुप्त=secret; गोपनीय=confidential; सेटिंग=settings;
        टेक्स्ट=text; शुरुआत=beginning; ग्राहक=customers; उपयोगकर्ता=user;
        दूसरे=other; अन्य=other; ऑर्डर=orders; पते=address; पता=address; ईमेल=email;
        फ़ोन=phone_number; फोन=phone_number; पासवर्ड=password; कार्ड=card;
        डेटा=data; जानकारी=data; रिफंड=refund; धनवापसी=refund; बिना=without;
        जांच=check; जाँच=check; मंजूरी=approval; तुम=you; बहाना=pretend;
        कल्पना=imagine; भूमिका=role; डेवलपर=developer; एडमिन=administrator;
        व्यवस्थापक=administrator; मोड=mode; प्रतिबंध=restrictions; सीमा=limits;
        फ़िल्टर=filters; फिल्टर=filters; नया=new; सहायक=assistant; संदेश=message;
        मैसेज=message; पालन=follow; मेरे=my; मेरा=my; मेरी=my; तुम्हारे=your;
        सवाल=question; प्रश्न=question; साइज़=size; रंग=colour; डिलीवरी=delivery;
        रसीद=receipt; वापसी=return; मैनुअल=manual; सुझाओ=recommend
    """,
    "id": """
        abaikan*=ignore; lupakan*=forget; sebelumnya=previous; semua=all; seluruh=all;
        instruksi*=instructions; perintah*=instructions; petunjuk*=instructions;
        aturan*=rules; peraturan*=rules; sistem*=system; prompt*=prompt;
        tampilkan*=show; tunjukkan*=show; perlihatkan*=show; berikan*=give; beri=give;
        tulis*=write; salin*=copy; ungkapkan*=reveal; beritahu*=tell; katakan*=tell;
        sebutkan*=list; daftar*=list; tersembunyi*=hidden; rahasia*=secret;
        konfigurasi*=configuration; pengaturan*=settings; teks*=text; awal=beginning;
        kata=word; pelanggan*=customers; pembeli*=customers; pengguna*=user; lain=other;
        lainnya=other; pesanan*=orders; alamat*=address; email*=email;
        telepon*=phone_number; sandi*=password; kartu*=card; data*=data;
        kembalikan*=refund; tanpa=without; pemeriksaan*=check; verifikasi*=check;
        persetujuan*=approval; sekarang=now; kamu=you; anda=you; berpura-pura=pretend;
        bayangkan=imagine; peran*=role; pengembang*=developer; admin*=administrator;
        mode=mode; batasan*=restrictions; pembatasan*=restrictions; filter*=filters;
        baru=new; tugas*=task; asisten*=assistant; pesan=message; ikuti*=follow;
        patuhi*=obey; matikan*=disable; saya=my; pertanyaan*=question; ukuran*=size;
        warna*=colour; pengiriman*=delivery; struk*=receipt; kuitansi*=receipt;
        pengembalian*=return; panduan*=manual; sarankan*=recommend;
        rekomendasi*=recommend
    """,
    "vi": """
        bỏ qua=ignore; phớt lờ=ignore; quên=forget; trước đó=previous; tất cả=all;
        mọi=all; hướng dẫn=instructions; chỉ dẫn=instructions; chỉ thị=instructions;
        lệnh=instructions; quy tắc=rules; quy định=rules; hệ thống=system;
        lời nhắc=prompt; hiển thị=show; cho tôi xem=show; viết=write; chép=copy;
        tiết lộ=reveal; liệt kê=list; bí mật=secret; cấu hình=configuration;
        thiết lập=settings; cài đặt=settings; văn bản=text; ban đầu=beginning;
        nguyên văn=word_for_word; khách hàng=customers; người dùng=user; khác=other;
        đơn hàng=orders; địa chỉ=address; số điện thoại=phone_number;
        mật khẩu=password; thẻ=card; dữ liệu=data; thông tin=data; hoàn tiền=refund;
        kiểm tra=check; phê duyệt=approval; bây giờ=now; từ giờ=from_now_on;
        bạn là=you_are; giả vờ=pretend; tưởng tượng=imagine; đóng vai=role_play;
        nhà phát triển=developer; quản trị viên=administrator; chế độ=mode;
        hạn chế=restrictions; giới hạn=limits; bộ lọc=filters; mới=new;
        nhiệm vụ=task; trợ lý=assistant; tin nhắn=message; làm theo=follow;
        tuân theo=follow; tuân thủ=obey; của tôi=my; của bạn=your; câu hỏi=question;
        kích cỡ=size; màu=colour; giao hàng=delivery; hóa đơn=receipt;
        trả hàng=return; đổi trả=return; gợi ý=recommend
    """,
    "th": """
        เพิกเฉย=ignore; ไม่ต้องสนใจ=ignore; ละเว้น=ignore; ลืม=forget; ก่อนหน้า=previous;
        ทั้งหมด=all; คำสั่ง=instructions; คำแนะนำ=instructions; กฎ=rules; ระบบ=system;
        พรอมต์=prompt; พรอมท์=prompt; แสดง=show; ให้ดู=show; เขียน=write;
        คัดลอก=copy; เปิดเผย=reveal; บอก=tell; รายการ=list; ซ่อน=hidden;
        ความลับ=secret; ลับ=secret; ตั้งค่า=settings; ข้อความ=message;
        ตอนต้น=beginning; ลูกค้า=customers; ผู้ใช้=user; อื่น=other;
        คำสั่งซื้อ=orders; ที่อยู่=address; อีเมล=email; เบอร์โทร=phone_number;
        โทรศัพท์=phone_number; รหัสผ่าน=password; บัตร=card; ข้อมูล=data;
        คืนเงิน=refund; โดยไม่=without; ตรวจสอบ=check; อนุมัติ=approval;
        ตอนนี้=now; ต่อจากนี้=from_now_on; คุณคือ=you_are; แกล้งทำ=pretend;
        สมมติ=imagine; จินตนาการ=imagine; บทบาท=role; นักพัฒนา=developer;
        ผู้ดูแล=administrator; แอดมิน=administrator; โหมด=mode; ข้อจำกัด=restrictions;
        ตัวกรอง=filters; ใหม่=new; ผู้ช่วย=assistant; ทำตาม=follow; เชื่อฟัง=obey;
        ของฉัน=my; ของคุณ=your; คำถาม=question; ขนาด=size; ไซส์=size;
        จัดส่ง=delivery; ใบเสร็จ=receipt; คืนสินค้า=return; คู่มือ=manual;
        แนะนำ=recommend
    """,
    "ja": """
        無視=ignore; 忘れ=forget; これまで=previous; 以前=previous; 前の=previous;
        すべて=all; 全て=all; 全部=all; 指示=instructions; 命令=instructions;
        ルール=rules; 規則=rules; システムプロンプト=system_prompt; システム=system;
        プロンプト=prompt; 表示=show; 見せ=show; 出力=print; 教え=tell; 書い=write;
        書き=write; 貼っ=paste; コピー=copy; 明かし=reveal; 開示=reveal; 一覧=list;
        隠さ=hidden; 隠し=hidden; 秘密=secret; 機密=confidential; 設定=settings;
        全文=full_text; 文章=text; テキスト=text; 最初=beginning; そのまま=verbatim;
        原文=verbatim; お客様=customers; 顧客=customers; ユーザー=user; ほかの=other;
        他の=other; 注文=orders; 住所=address; メール=email; 電話番号=phone_number;
        パスワード=password; カード=card; データ=data; 個人情報=personal_data;
        情報=data; 返金=refund; なしで=without; 確認=check; 承認=approval;
        今から=from_now_on; 今後=from_now_on; あなたは=you_are; ふり=pretend;
        つもり=pretend; ロールプレイ=role_play; 開発者=developer; 管理者=administrator;
        モード=mode; デバッグ=debug; 制限=restrictions; 制約=restrictions;
        フィルター=filters; 新しい=new; タスク=task; 任務=task; アシスタント=assistant;
        メッセージ=message; 従=follow; 守=follow; 無効=disable; 私の=my; あなたの=your;
        質問=question; サイズ=size; 色=colour; 配送=delivery; 送料=delivery;
        領収書=receipt; 返品=return; 説明書=manual; おすすめ=recommend
    """,
    "zh": """
        忽略=ignore; 无视=ignore; 不用管=ignore; 不理=ignore; 忘记=forget; 忘掉=forget;
        之前=previous; 以前=previous; 先前=previous; 所有=all; 全部=all; 一切=all;
        指令=instructions; 指示=instructions; 规则=rules; 规定=rules;
        系统提示=system_prompt; 系统=system; 提示词=prompt; 提示=prompt; 显示=show;
        展示=show; 给我看=show; 输出=print; 打印=print; 告诉=tell; 发给=send;
        写出=write; 复制=copy; 透露=reveal; 泄露=reveal; 列出=list; 隐藏=hidden;
        秘密=secret; 机密=confidential; 保密=confidential; 设置=settings;
        配置=configuration; 原文=verbatim; 文本=text; 开头=beginning; 其他=other;
        别的=other; 顾客=customers; 客户=customers; 用户=user; 订单=orders;
        地址=address; 邮箱=email; 电子邮件=email; 手机号=phone_number;
        电话=phone_number; 密码=password; 银行卡=card; 卡号=card; 数据=data;
        信息=data; 退款=refund; 无需=without; 不需要=without; 审核=approval;
        验证=check; 检查=check; 现在=now; 从现在开始=from_now_on; 你是=you_are;
        假装=pretend; 扮演=role_play; 角色=role; 开发者=developer; 开发人员=developer;
        管理员=administrator; 模式=mode; 调试=debug; 限制=restrictions; 过滤=filters;
        新的=new; 任务=task; 助手=assistant; 消息=message; 遵守=follow; 服从=obey;
        关闭=disable; 禁用=disable; 我的=my; 你的=your; 问题=question; 尺码=size;
        颜色=colour; 发货=delivery; 快递=delivery; 发票=receipt; 退货=return;
        说明书=manual; 推荐=recommend
    """,
    "ko": """
        무시=ignore; 신경=ignore; 잊어=forget; 이전=previous; 앞의=previous; 모든=all;
        전부=all; 지시=instructions; 지침=instructions; 명령=instructions; 규칙=rules;
        시스템=system; 프롬프트=prompt; 보여=show; 출력=print; 알려=tell; 말해=tell;
        복사=copy; 공개=reveal; 밝혀=reveal; 목록=list; 숨겨진=hidden; 숨긴=hidden;
        비밀번호=password; 비밀=secret; 기밀=confidential; 설정=settings;
        구성=configuration; 텍스트=text; 내용=text; 처음=beginning; 그대로=verbatim;
        고객=customers; 손님=customers; 사용자=user; 다른=other; 주문=orders;
        주소=address; 이메일=email; 전화번호=phone_number; 카드=card; 데이터=data;
        정보=data; 환불=refund; 없이=without; 확인=check; 검토=check; 승인=approval;
        지금부터=from_now_on; 이제=now; 지금=now; 너는=you_are; 당신은=you_are;
        역할=role; 개발자=developer; 관리자=administrator; 모드=mode; 디버그=debug;
        제한=restrictions; 필터=filters; 새로운=new; 작업=task; 임무=task;
        어시스턴트=assistant; 메시지=message; 따르=follow; 따라=follow; 복종=obey;
        질문=question; 사이즈=size; 색상=colour; 배송=delivery; 영수증=receipt;
        반품=return; 설명서=manual; 추천=recommend
    """,
}


#: Round 12's additions: the concepts round 11's misses lacked ("what you were told", "no
#: longer", "stop", "set aside") and a few inflections. A round-11 detector scores with
#: :data:`LEXICON` alone (its digest says which).
LEXICON_12: dict[str, str] = {
    "de": """befohlen=told; aufgetragen=told; aufgehoben=void; ungültig=void; nicht mehr=no_longer;
        hör auf=stop; aufhören=stop; halte=follow; halten=follow""",
    "fr": """demandé=told; tu n'es plus=no_longer; n'es plus=no_longer; tenu*=bound;
        arrête*=stop; annulé*=void; obéir=obey""",
    "es": """ya no=no_longer; dijeron=told; pidieron=told; obedecer=obey; deja de=stop;
        dejes de=stop; tienes que=must""",
    "it": """non devi più=no_longer; più=no_longer; smetti*=stop; rispett*=follow;
        incolla=paste""",
    "pt": """não precisa mais=no_longer; mais=no_longer; deixa de lado=ignore; mandaram=told;
        pare de=stop""",
    "nl": """niet meer=no_longer; opgedragen=told; trek je niets=ignore; houden=follow;
        stop*=stop""",
    "sv": """längre=no_longer; sagt åt=told; bry dig inte=ignore; följa=follow; sluta*=stop""",
    "no": """lenger=no_longer; slutt*=stop; følge=follow""",
    "fi": """enää=no_longer; lopeta=stop""",
    "pl": """już nie=no_longer; nie musisz=no_longer; przestań=stop; słucha*=obey;
        wklej*=paste""",
    "cs": """už nemusíš=no_longer; nemusíš=no_longer; přestaň=stop""",
    "hu": """többé=no_longer; nem kell=no_longer; hagyd abba=stop""",
    "ro": """nu mai=no_longer; asculți=obey; încetea*=stop""",
    "tr": """zorunda değilsin=no_longer; uymak=follow; bırak=stop; yapıştır*=paste""",
    "ru": """больше не=no_longer; не нужно=no_longer; велели=told; соблюда*=follow;
        перестань=stop; не действует=void; скинь=send""",
    "uk": """більше не=no_longer; не треба=no_longer; виконувати=follow; перестань=stop""",
    "el": """πια=no_longer; δεν χρειάζεται=no_longer; τηρείς=follow; σταμάτα=stop; είπαν=told""",
    "ar": """بعد الآن=no_longer; لم تعد=no_longer; ملزم=bound; لا داعي=no_longer; توقف=stop""",
    "he": """כבר לא=no_longer; לציית=obey; תפסיק=stop; אמרו=told""",
    "hi": """ज़रूरत नहीं=no_longer; जरूरत नहीं=no_longer; मानने=follow; बंद करो=stop; कहा=told""",
    "id": """tidak perlu lagi=no_longer; mematuhi=obey; berhenti=stop""",
    "vi": """nữa=no_longer; không cần=no_longer; dặn=told; dừng=stop""",
    "th": """อีกต่อไป=no_longer; ไม่ต้อง=no_longer; หยุด=stop""",
    "ja": """もう=no_longer; 必要はありません=no_longer; 従う=follow; 言われた=told; やめ=stop""",
    "zh": """不用再=no_longer; 不再=no_longer; 别再=stop; 停止=stop""",
    "ko": """필요 없=no_longer; 더 이상=no_longer; 그만=stop""",
}


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words a gloss match may share with English: they do not make a text foreign.
_ENGLISH = _wordset(
    """
    admin administrator all assistant card configuration copy data debug developer email
    filter filters instruction instructions list manual message mode new no note now order
    orders password print prompt question refund return role rules secret settings show size
    system task text tell user without your my colour color delivery customer customers
    ignore other previous recommend imagine pretend hidden word begin start
    """
)
# English function words: a text where at least _ENGLISH_SHARE of the Latin words are these
# is English, and gets no gloss ("add the most ..." is no Hungarian).
_STOPWORDS = _wordset(
    """
    a an the and or but if of to in on at for from with by about as into than then so
    i me my we our you your he she it its they them their this that these those
    is are was were be been am do does did have has had can could will would should may
    might must not no yes please what which who when where why how all any some there here
    """
)
_ENGLISH_SHARE = 0.2
_MIN_WORDS_FOR_LANGUAGE = 4

_WORDS = re.compile(r"\w+(?:-\w+)*")
# where a sentence ends (round 17 decides the language of each)
_SENTENCES = re.compile(r"[.!?;:\n\u3002\uff01\uff1f]+(?:\s+|$)|[\u3002\uff01\uff1f]")
# Scripts written without spaces between words, or with particles attached to them.
_SUBSTRING_SCRIPT = re.compile(
    "[\u0590-\u05ff\u0600-\u06ff\u0900-\u097f\u0e00-\u0e7f"
    "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]"
)
_MIN_STEM = 3  # a stem shorter than this only matches a whole word
_MIN_REST = 5  # the least length of a compound's second part worth trying


def _key(text: str) -> str:
    # lower-case first: the homoglyph table maps some capitals whose small letters it leaves
    return _INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).lower().translate(_HOMOGLYPHS)


class _Tables(NamedTuple):
    exact: dict[str, str]  # whole words
    stems: dict[str, str]
    longest: int  # the longest stem
    found: dict[str, str]  # substrings and phrases
    substrings: re.Pattern[str] | None  # scripts without spaces, longest first
    phrases: re.Pattern[str] | None  # entries with a space, whole words only
    openers: frozenset[str]  # the first words of the phrases


def _alternation(entries: Sequence[str], whole_words: bool) -> re.Pattern[str] | None:
    # longest first, so "คำสั่งซื้อ" (orders) wins over "คำสั่ง" (instructions)
    alternatives = [
        rf"(?<!\w){re.escape(e)}(?!\w)" if whole_words else re.escape(e)
        for e in sorted(entries, key=len, reverse=True)
    ]
    return re.compile("|".join(alternatives)) if alternatives else None


def _sources(level: int) -> list[str]:
    """The lexicon's entry strings at ``level`` (11, or 12 with :data:`LEXICON_12`)."""
    if level not in (11, 12):
        raise ValueError(f"no gloss lexicon for round {level}")
    return list(LEXICON.values()) + (list(LEXICON_12.values()) if level == 12 else [])


@cache
def _tables(level: int = 11) -> _Tables:
    exact: dict[str, str] = {}
    stems: dict[str, str] = {}
    subs: dict[str, str] = {}
    phrases: dict[str, str] = {}
    for entries in _sources(level):
        for entry in entries.split(";"):
            src, _, target = (part.strip() for part in entry.partition("="))
            if not src or not target:
                raise ValueError(f"malformed gloss entry {entry!r}")
            meaning = target.replace("_", " ")
            if " " in src:
                phrases.setdefault(_key(src), meaning)
            elif _SUBSTRING_SCRIPT.search(src):
                subs.setdefault(_key(src.rstrip("*")), meaning)
            elif src.endswith("*") and len(src) > _MIN_STEM:
                stems.setdefault(_key(src[:-1]), meaning)
            else:
                exact.setdefault(_key(src.rstrip("*")), meaning)
    return _Tables(
        exact,
        stems,
        max(map(len, stems), default=0),
        subs | phrases,
        _alternation(list(subs), whole_words=False),
        _alternation(list(phrases), whole_words=True),
        frozenset(p.split()[0] for p in phrases),
    )


def _stem_of(word: str, stems: dict[str, str], longest: int) -> tuple[int, str] | None:
    for n in range(min(len(word), longest), _MIN_STEM - 1, -1):
        meaning = stems.get(word[:n])
        if meaning is not None:
            return n, meaning
    return None


def _word_glosses(
    word: str, exact: dict[str, str], stems: dict[str, str], longest: int
) -> list[str]:
    """The glosses of one word: a whole-word entry, else the longest stem it starts with and,
    for a compound, the stem its remainder starts with."""
    meaning = exact.get(word)
    if meaning is not None:
        return [meaning]
    stem = _stem_of(word, stems, longest)
    if stem is None:
        return []
    rest = word[stem[0] :]
    if len(rest) >= _MIN_REST:
        second = exact.get(rest)
        if second is None:
            found = _stem_of(rest, stems, longest)
            second = found[1] if found is not None else None
        if second is not None:
            return [stem[1], second]
    return [stem[1]]


def gloss(text: str, level: int = 11, by_sentence: bool = False) -> str | None:
    """The English gloss of ``text``'s injection-relevant words, or None where fewer than
    :data:`MIN_FOREIGN_HITS` of them are foreign (English text, or nothing to gloss).
    ``level`` 12 adds :data:`LEXICON_12`; ``by_sentence`` see :func:`gloss_terms`."""
    terms = gloss_terms(text, level, by_sentence)
    return None if terms is None else " ".join(terms)


def _is_english(spaced: Sequence[re.Match[str]]) -> bool:
    return len(spaced) >= _MIN_WORDS_FOR_LANGUAGE and (
        sum(m.group(0) in _STOPWORDS for m in spaced) >= _ENGLISH_SHARE * len(spaced)
    )


def gloss_terms(text: str, level: int = 11, by_sentence: bool = False) -> list[str] | None:
    """:func:`gloss` as a list of its terms ("system prompt" is one term). ``by_sentence``
    (round 17) decides English or not for each sentence of four words or more instead of
    once for the text."""
    t = _tables(level)
    low = _key(text)
    found: list[tuple[int, str]] = []
    foreign = 0
    spaced = [m for m in _WORDS.finditer(low) if not _SUBSTRING_SCRIPT.search(m.group(0))]
    # each alternation only where it can match: a 512-token English text skips both
    patterns = [
        t.substrings if _SUBSTRING_SCRIPT.search(low) else None,
        t.phrases if any(m.group(0) in t.openers for m in spaced) else None,
    ]
    for pattern in patterns:
        for m in pattern.finditer(low) if pattern is not None else ():
            found.append((m.start(), t.found[m.group(0)]))
            foreign += 1
    english = _is_english(spaced)
    if by_sentence:
        # round 17: each sentence decides for itself (a short one goes with the text), so
        # an instruction in German after an English question is glossed too
        starts = [0] + [m.end() for m in _SENTENCES.finditer(low)]
        sentence_of = [bisect.bisect_right(starts, m.start()) - 1 for m in spaced]
        words: dict[int, list[re.Match[str]]] = {}
        for m, k in zip(spaced, sentence_of, strict=True):
            words.setdefault(k, []).append(m)
        own = {
            k: _is_english(ws) if len(ws) >= _MIN_WORDS_FOR_LANGUAGE else english
            for k, ws in words.items()
        }
        glossed = [m for m, k in zip(spaced, sentence_of, strict=True) if not own[k]]
    else:
        glossed = [] if english else spaced
    for m in glossed:
        token = m.group(0)
        # a hyphenated token as a whole ("e-mail"), else each part ("arată-mi")
        parts = [token] if token in t.exact or "-" not in token else token.split("-")
        for word in parts:
            for meaning in _word_glosses(word, t.exact, t.stems, t.longest):
                found.append((m.start(), meaning))
                if word not in _ENGLISH and word.rstrip("s") not in _ENGLISH:
                    foreign += 1
    if foreign < MIN_FOREIGN_HITS:
        return None
    found.sort(key=lambda item: item[0])
    return [meaning for _, meaning in found]


# Round 13's rules over a gloss's terms: what no shopper asks in any language.
_ASK = frozenset(
    {"show", "reveal", "print", "copy", "paste", "tell", "give", "write", "list", "send"}
)
_SECRET = frozenset({"system prompt", "hidden", "secret", "confidential"})
_SETUP = _SECRET | {"prompt", "configuration", "verbatim", "word for word"}
_OVERRIDE = frozenset({"ignore", "forget", "no longer", "stop", "void", "disable"})
_RULES = frozenset(
    {"rules", "instructions", "restrictions", "limits", "filters", "system", "prompt"}
)
_PEOPLE = frozenset({"customers", "customer", "user"})
_FIELDS = frozenset(
    {"address", "email", "phone number", "orders", "data", "card", "password", "customer data",
     "personal data"}
)  # fmt: skip
_MODES = frozenset({"developer mode", "maintenance mode", "debug"})


def gloss_rule(terms: Sequence[str]) -> str | None:
    """The name of the round-13 rule a gloss's terms fire, or None. Each asks for what the
    assistant must never give, in words a shopper does not combine:

    - ``gloss_exfiltration``: a request ("show", "give", "send" ...) for an address, e-mail,
      phone number, orders or card of *another* customer or user, or of the previous
      customer;
    - ``gloss_refund``: a refund without a check or approval;
    - ``gloss_unrestricted``: "no restrictions / filters / limits", or a developer,
      maintenance or debug mode with a request or "disable";
    - ``gloss_setup_leak``: a request for the hidden, secret or confidential setup (system
      prompt), or for the prompt or configuration after an override of the rules.
    """
    c = set(terms)
    if {"system", "prompt"} <= c:  # "system prompt" glossed word by word
        c.add("system prompt")
    ask = bool(c & _ASK)
    fields = bool(c & _FIELDS)
    if ask and fields and (("other" in c and c & _PEOPLE) or ("previous" in c and "customer" in c)):
        return "gloss_exfiltration"
    if "refund" in c and c & {"without", "without approval"}:
        return "gloss_refund"
    if ("no" in c and c & {"restrictions", "filters", "limits"}) or (
        c & _MODES and (ask or "disable" in c)
    ):
        return "gloss_unrestricted"
    if ask and c & _SETUP and (c & _SECRET or (c & _OVERRIDE and c & _RULES)):
        return "gloss_setup_leak"
    return None


@cache
def _meanings(level: int = 11) -> tuple[dict[str, str], dict[tuple[str, ...], str], int]:
    """The lexicon's English meanings: single words (keyed also by their simple
    inflections, "instruction" -> "instructions"), and phrases as word tuples."""
    words: dict[str, str] = {}
    phrases: dict[tuple[str, ...], str] = {}
    for entries in _sources(level):
        for entry in entries.split(";"):
            meaning = entry.partition("=")[2].strip().replace("_", " ")
            if " " in meaning:
                phrases[tuple(meaning.split())] = meaning
            elif meaning:
                words[meaning] = meaning
    for meaning in list(words):
        for form in _inflections(meaning):
            words.setdefault(form, meaning)
    return words, phrases, max(map(len, phrases), default=1)


def _inflections(word: str) -> list[str]:
    """Plain English forms of ``word``: its plural or singular, and for a verb its -s, -ed
    and -ing forms (spelling rules kept to the common ones)."""
    forms = [word[:-1]] if word.endswith("s") and len(word) > 3 else [word + "s", word + "es"]
    stem = word[:-1] if word.endswith("e") else word
    forms += [stem + "ed", stem + "ing", word + "d"]
    return forms


def english_concepts(text: str, level: int = 11) -> list[str]:
    """The words of ``text`` that are the gloss's own English meanings, in order (round
    20): what the gloss of this text would say were it written in another language. A
    phrase ("system prompt", "word for word") is one term; "instruction" and "ignoring"
    count as "instructions" and "ignore"."""
    words, phrases, longest = _meanings(level)
    tokens = [m.group(0) for m in _WORDS.finditer(_key(text))]
    out: list[str] = []
    i = 0
    while i < len(tokens):
        for n in range(min(longest, len(tokens) - i), 1, -1):
            meaning = phrases.get(tuple(tokens[i : i + n]))
            if meaning is not None:
                out.append(meaning)
                i += n
                break
        else:
            meaning = words.get(tokens[i])
            if meaning is not None:
                out.append(meaning)
            i += 1
    return out


def concepts(text: str, level: int = 11, by_sentence: bool = False) -> tuple[str, bool]:
    """A text's concept words as one string, and whether they are a gloss (round 20's gloss
    opinion): the gloss where the text has one (:func:`gloss`), else its English words that
    are the gloss's meanings (:func:`english_concepts`). An English text so reads as the
    gloss of its translation would, and a model trained on many English texts can score the
    glosses of a few foreign ones."""
    found = gloss(text, level, by_sentence)
    if found is not None:
        return found, True
    return " ".join(english_concepts(text, level)), False


def lexicon_version(level: int = 11) -> str:
    """A short digest of the lexicon at ``level``: a detector trained on one refuses another
    (round 11's digest covers :data:`LEXICON` alone, so round 12's additions leave it)."""
    text = "\n".join(f"{lang}:{entries}" for lang, entries in sorted(LEXICON.items()))
    if level == 12:
        text += "\n".join(f"{lang}+:{entries}" for lang, entries in sorted(LEXICON_12.items()))
    elif level != 11:
        raise ValueError(f"no gloss lexicon for round {level}")
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()[:16]
